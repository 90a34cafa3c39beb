"""Global options (given before the verb), shared by every command through click's context."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class RemoteOptions:
    """``--remote SYS`` and what the batch jobs ask for; unset resources come from the
    system's partition."""

    system: str = ""
    per_job: int = 50
    retries: int = 2
    cores: int | None = None
    nodes: int = 1
    memory: str = ""
    time: str = ""
    partition: str = ""
    gpus: int = 0
    account: str = ""
    qos: str = ""
    job_name: str = ""
    drain_margin: int | None = None  # seconds; None: twice the longest config, >= 60 s
    gpu_ids: tuple = ()              # --gpus 0,1,2,3: devices of this machine, by worker
    stage: tuple = ()                # --stage PATH: files and folders sent with every job


@dataclass
class Settings:
    parallel: int = 1
    chunk: int = 10
    quiet: bool = False
    verbose: bool = False
    seed: int = 0
    cache: bool = True
    refresh: bool = False
    remote: RemoteOptions = field(default_factory=RemoteOptions)
    outcomes: str | None = None    # a batch task's outcomes file (job side)
    positions: str | None = None   # a batch task's input positions file (job side)
    environment: object = None     # cli/environment.py: the streams, and which are terminals
