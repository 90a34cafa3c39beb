"""Systems for the --remote tests: the local scheduler (always available), the test
cluster's SLURM and Grid Engine over real SSH to 127.0.0.1:2222 (tests/cluster/), and the
PBS stand-in (tests/cluster/pbs/). Each test writes its own config.toml into its private
store; a cluster test skips, with the reason, when the cluster is not running."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from helpers_wfl import PROGRAM, wfl_program

REPO = Path(__file__).resolve().parent.parent
CLUSTER = Path(os.environ.get("WFLCLI_CLUSTER", "/tmp/wflcli-cluster"))
SSH_KEY = CLUSTER / "sshd" / "client_ed25519"
KNOWN_HOSTS = CLUSTER / "sshd" / "known_hosts"
PBS_STANDIN = REPO / "tests" / "cluster" / "pbs"


def _ssh_reason() -> str | None:
    if not SSH_KEY.exists() or not KNOWN_HOSTS.exists():
        return f"no test sshd keys in {CLUSTER}/sshd (run tests/cluster/start.sh as root)"
    try:
        socket.create_connection(("127.0.0.1", 2222), timeout=2).close()
    except OSError:
        return "no sshd on 127.0.0.1:2222 (run tests/cluster/start.sh as root)"
    return None


def _command_reason(argv: list[str], what: str) -> str | None:
    if shutil.which(argv[0]) is None:
        return f"{argv[0]} not installed (run tests/cluster/start.sh as root)"
    done = subprocess.run(argv, capture_output=True, timeout=30)
    return None if done.returncode == 0 else f"{what} is not running (tests/cluster/start.sh)"


def require_cluster(scheduler: str) -> None:
    reason = _ssh_reason() or (_command_reason(["squeue", "--noheader"], "SLURM")
                               if scheduler == "slurm" else
                               _command_reason(["qstat"], "Grid Engine"))
    if reason:
        pytest.skip(reason)


def system_toml(name: str, scheduler: str, rundir: Path, *, ssh: bool, commands=(),
                known_hosts: Path = KNOWN_HOSTS, extra: str = "") -> str:
    """One [systems.NAME] table; ``extra`` lines go into it."""
    lines = [f"[systems.{name}]", f"scheduler = {json.dumps(scheduler)}",
             f"rundir = {json.dumps(str(rundir))}", f"wfl = {json.dumps(PROGRAM)}",
             f"commands = {json.dumps(list(commands))}"]
    if ssh:
        lines += ['host = "root@127.0.0.1"', "port = 2222",
                  f"identity = {json.dumps(str(SSH_KEY))}",
                  f"known_hosts = {json.dumps(str(known_hosts))}"]
    return "\n".join(lines) + "\n" + extra + "\n"


def write_config(text: str) -> Path:
    path = Path(os.environ["WFLCLI_HOME"]) / "config.toml"
    with open(path, "a") as stream:
        stream.write(text)
    return path


def records(system: str | None = None) -> list[dict]:
    """The job store's task records, as ``wfl remote ls --json`` prints them."""
    done = wfl_program("remote ls --json", *(["--system", system] if system else []),
                       text=True, check=True, timeout=60)
    return [json.loads(line) for line in done.stdout.splitlines()]
