"""The systems config: where ``--remote SYS`` sends jobs, read from TOML files.

``~/.wflcli/config.toml`` (user) and the nearest ``.wflcli/config.toml`` up from the
working directory (project) are merged key by key, the project winning; command-line flags
and environment variables win over both. Every value remembers the file it came from, so
``wfl remote config`` can say, and an error can name the file and the key.
"""

from __future__ import annotations

import os
import re
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path

from wflcli.errors import UsageError, WflError
from wflcli.store.home import store_home

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

SCHEDULERS = ("slurm", "sge", "pbs", "local")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_VARIABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class ConfigError(WflError):
    """A config file that cannot be used: names the file, the key, and what is wrong."""

    def __init__(self, source: str, key: str, what: str):
        super().__init__(f"{source}: {key}: {what}" if key else f"{source}: {what}")


@dataclass(frozen=True)
class Partition:
    name: str
    cores: int = 1            # per node
    memory: str = ""          # per node, as the scheduler writes it (e.g. 64G)
    time: str = ""            # longest walltime allowed, [D-]HH:MM:SS
    account: str = ""
    qos: str = ""
    gpus: int = 0
    nodes: int = 0            # most nodes one job may have (0: not said)
    pe: str = ""              # Grid Engine: parallel environment of multi-node jobs
    default: bool = False


@dataclass(frozen=True)
class System:
    name: str
    scheduler: str
    rundir: str
    host: str = ""            # empty: this machine, no SSH
    port: int = 0
    user: str = ""
    identity: str = ""        # a private key file; else the agent and ~/.ssh/config
    known_hosts: str = ""     # a known_hosts file; else ~/.ssh/known_hosts
    accept_new_host: bool = False
    wfl: str = "wfl"          # the command on the far side
    commands: tuple = ()      # shell lines run before wfl in a job (module load, venv)
    env: tuple = ()           # (name, value): exported in every job (codes' commands, data)
    header: tuple = ()        # extra scheduler directive lines
    max_array: int = 1000
    partitions: tuple = ()
    stage: tuple = ()         # local files and folders sent with every job (pseudopotentials)

    @property
    def job_setup(self) -> tuple:
        """The lines a job runs before wfl: the exports of ``env``, then ``commands``."""
        exports = tuple(f"export {name}={shlex.quote(value)}" for name, value in self.env)
        return exports + self.commands

    @property
    def wfl_command(self) -> list[str]:
        """``wfl`` is a command line (``python -m wflcli`` works), split as a shell would."""
        return shlex.split(self.wfl)

    def partition(self, name: str | None) -> Partition | None:
        """The named partition, or the default one (first marked default, else first)."""
        if name:
            for partition in self.partitions:
                if partition.name == name:
                    return partition
            return None
        marked = [p for p in self.partitions if p.default]
        return (marked or list(self.partitions) or [None])[0]


_SYSTEM_KEYS = {"host": str, "port": int, "user": str, "scheduler": str, "rundir": str,
                "identity": str, "known_hosts": str, "accept_new_host": bool, "wfl": str,
                "commands": list, "header": list, "max_array": int, "partitions": dict,
                "env": dict, "stage": list}
_PARTITION_KEYS = {"cores": int, "memory": str, "time": str, "account": str, "qos": str,
                   "gpus": int, "nodes": int, "pe": str, "default": bool}


class UnknownSystem(UsageError):
    """A system name that no systems config defines (``fact`` says where it looked)."""

    def __init__(self, name: str, fact: str):
        self.name, self.fact = name, fact
        super().__init__(f"system {name}: {fact}")


@dataclass
class Config:
    """The merged settings, each with the file it came from."""

    systems: dict = field(default_factory=dict)   # name -> {key: value}
    sources: dict = field(default_factory=dict)   # (name, key) -> file
    files: list = field(default_factory=list)     # read, lowest precedence first

    def system(self, name: str) -> System:
        if name not in self.systems:
            known = ", ".join(sorted(self.systems)) or "none"
            where = " or ".join(map(str, self.files)) or f"{user_config_path()}"
            raise UnknownSystem(name, f"no such system in {where} (known: {known})")
        return _build(name, self.systems[name], self.sources)


# what ExPyRe's config.json calls some of our keys, for users who bring theirs along
_EXPYRE_NAMES = {"max_time": "time", "max_mem": "memory", "ncores": "cores"}


def unknown_key(key: str, known) -> str:
    """The complaint about an unknown key, with the key that was probably meant."""
    import difflib

    meant = _EXPYRE_NAMES.get(key)
    if meant not in known:
        close = difflib.get_close_matches(key, known, n=1)
        meant = close[0] if close else None
    hint = f"did you mean '{meant}'? " if meant else ""
    return f"unknown key ({hint}known: {', '.join(sorted(known))})"


def user_config_path() -> Path:
    return store_home() / "config.toml"


def project_config_path(start: Path | None = None) -> Path | None:
    """The nearest ``.wflcli/config.toml`` from ``start`` (the working directory) upwards."""
    folder = (start or Path.cwd()).resolve()
    for candidate in (folder, *folder.parents):
        path = candidate / ".wflcli" / "config.toml"
        if path.is_file():
            return path
    return None


def load_config(start: Path | None = None) -> Config:
    config = Config()
    user = user_config_path()
    for path in (user, project_config_path(start)):
        if path is None or not path.is_file():
            continue
        if config.files and path.resolve() == config.files[0].resolve():
            continue  # the project folder is the home folder
        _merge(config, path, _read(path))
        config.files.append(path)
    for name, settings in config.systems.items():
        _build(name, settings, config.sources)  # any fault is reported now, with its file
    return config


def _read(path: Path) -> dict:
    try:
        with open(path, "rb") as stream:
            return tomllib.load(stream)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), "", f"not valid TOML ({exc})") from None
    except OSError as exc:
        raise ConfigError(str(path), "", f"cannot be read ({exc.strerror})") from None


def _merge(config: Config, path: Path, data: dict) -> None:
    unknown = set(data) - {"systems"}
    if unknown:
        raise ConfigError(str(path), sorted(unknown)[0], "unknown key (expected [systems.NAME])")
    systems = data.get("systems", {})
    if not isinstance(systems, dict):
        raise ConfigError(str(path), "systems", "must be a table of systems")
    for name, settings in systems.items():
        key = f"systems.{name}"
        if not _NAME.match(name):
            raise ConfigError(str(path), key, "a system name is letters, digits, '.', '_' "
                              "and '-'")
        if not isinstance(settings, dict):
            raise ConfigError(str(path), key, "must be a table")
        merged = config.systems.setdefault(name, {})
        config.sources[(name, "")] = path  # the last file naming the system: for missing keys
        for setting, value in settings.items():
            expected = _SYSTEM_KEYS.get(setting)
            if expected is None:
                raise ConfigError(str(path), f"{key}.{setting}",
                                  unknown_key(setting, _SYSTEM_KEYS))
            if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
                raise ConfigError(str(path), f"{key}.{setting}",
                                  f"must be {_TYPE_WORDS[expected]}, not {value!r}")
            if setting in ("partitions", "env"):  # tables merge entry by entry
                merged.setdefault(setting, {}).update(value)
                for entry in value:
                    config.sources[(name, f"{setting}.{entry}")] = path
            else:
                merged[setting] = value
            config.sources[(name, setting)] = path


_TYPE_WORDS = {str: "a string", int: "an integer", bool: "true or false",
               list: "a list of strings", dict: "a table"}


def _build(name: str, settings: dict, sources: dict) -> System:
    def fault(key: str, what: str) -> ConfigError:
        origin = sources.get((name, key), sources.get((name, key.split(".")[0]),
                                                        sources[(name, "")]))
        return ConfigError(str(origin), f"systems.{name}.{key}", what)

    scheduler = settings.get("scheduler")
    if scheduler not in SCHEDULERS:
        raise fault("scheduler", f"must be one of {', '.join(SCHEDULERS)}"
                    + ("" if scheduler is None else f", not {scheduler!r}"))
    if not settings.get("rundir"):
        raise fault("rundir", "missing: the folder on that system where jobs run")
    for key in ("commands", "header", "stage"):
        if not all(isinstance(line, str) for line in settings.get(key, [])):
            raise fault(key, "must be a list of strings")
    if any("\n" in line for line in settings.get("header", [])):
        raise fault("header", "one directive per string (no line breaks)")
    for variable, value in settings.get("env", {}).items():
        if not _VARIABLE.match(variable):
            raise fault(f"env.{variable}", "not a name for an environment variable")
        if not isinstance(value, str):
            raise fault(f"env.{variable}", f"must be a string, not {value!r}")
    host = settings.get("host", "")
    user, _, bare_host = host.rpartition("@")
    if settings.get("max_array", 1000) < 1:
        raise fault("max_array", "must be at least 1")
    partitions = []
    for part_name, part in settings.get("partitions", {}).items():
        if not isinstance(part, dict):
            raise fault(f"partitions.{part_name}", "must be a table")
        for key, value in part.items():
            expected = _PARTITION_KEYS.get(key)
            if expected is None:
                raise fault(f"partitions.{part_name}.{key}", unknown_key(key, _PARTITION_KEYS))
            if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
                raise fault(f"partitions.{part_name}.{key}",
                            f"must be {_TYPE_WORDS[expected]}, not {value!r}")
        partitions.append(Partition(part_name, **part))
    return System(name=name, scheduler=scheduler, rundir=settings["rundir"], host=bare_host,
                  port=settings.get("port", 0), user=settings.get("user", "") or user,
                  identity=os.path.expanduser(settings.get("identity", "")),
                  known_hosts=os.path.expanduser(settings.get("known_hosts", "")),
                  accept_new_host=settings.get("accept_new_host", False),
                  wfl=settings.get("wfl", "wfl"), commands=tuple(settings.get("commands", ())),
                  header=tuple(settings.get("header", ())),
                  env=tuple(sorted(settings.get("env", {}).items())),
                  max_array=settings.get("max_array", 1000), partitions=tuple(partitions),
                  stage=tuple(os.path.expanduser(path) for path in settings.get("stage", ())))
