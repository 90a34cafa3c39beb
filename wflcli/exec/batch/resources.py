"""What one array task asks for: the command line's requests, filled in and checked
against the system's partition, so a job that could never start is refused here, not
after an hour in the queue."""

from __future__ import annotations

from wflcli.errors import UsageError, WflError
from wflcli.exec.schedulers import Resources, format_walltime, memory_bytes, walltime_seconds


class RequestRefused(UsageError):
    """A resource request the system cannot meet or that does not parse: ``request`` names
    it as a Resources field (memory, time, ...), ``value`` is what was asked (None: the
    fact says it), ``fact`` is why."""

    def __init__(self, request: str, value, fact: str):
        self.request, self.value, self.fact = request, value, fact
        super().__init__(f"{request}{'' if value is None else f' {value}'}: {fact}")


def resolve_resources(system, *, cores: int, memory: str = "", time: str = "",
                      partition: str = "", gpus: int = 0, account: str = "",
                      qos: str = "", nodes: int = 1) -> Resources:
    chosen = system.partition(partition or None)
    if partition and chosen is None:
        known = ", ".join(p.name for p in system.partitions) or "none configured"
        raise RequestRefused("partition", partition, f"{system.name} has no such partition "
                             f"(known: {known})")
    try:
        seconds = walltime_seconds(time) if time else None
        limit = walltime_seconds(chosen.time) if chosen and chosen.time else None
    except ValueError as exc:
        raise RequestRefused("time", None, str(exc)) from None
    try:
        wanted = memory_bytes(memory) if memory else None
    except ValueError as exc:
        raise RequestRefused("memory", None, str(exc)) from None
    if chosen is not None and chosen.memory:
        try:
            node = memory_bytes(chosen.memory)
        except ValueError:
            raise WflError(f"partition {chosen.name} of {system.name}: memory "
                           f"{chosen.memory!r} is not a size (e.g. 64G); fix the systems "
                           "config (wfl remote config shows the file)") from None
        if wanted is not None and wanted > node:
            raise RequestRefused("memory", memory, f"partition {chosen.name} of {system.name} "
                                 f"has {chosen.memory} of memory per node")
    if chosen is not None:
        if chosen.cores and cores > chosen.cores:
            raise RequestRefused("cores", cores, f"partition {chosen.name} of {system.name} has "
                                 f"{chosen.cores} cores per node")
        if chosen.nodes and nodes > chosen.nodes:
            raise RequestRefused("nodes", nodes, f"partition {chosen.name} of {system.name} "
                                 f"allows at most {chosen.nodes} nodes per job")
        if gpus > chosen.gpus:
            raise RequestRefused("gpus", gpus, f"partition {chosen.name} of {system.name} has "
                                 f"{chosen.gpus} GPUs per node")
        if seconds is not None and limit is not None and seconds > limit:
            raise RequestRefused("time", time, f"partition {chosen.name} of {system.name} "
                                 f"allows at most {chosen.time}")
    if seconds is None:
        seconds = limit
    return Resources(cores=cores, memory=memory,
                     time=format_walltime(seconds) if seconds is not None else "",
                     partition=chosen.name if chosen else "", gpus=gpus,
                     account=account or (chosen.account if chosen else ""),
                     qos=qos or (chosen.qos if chosen else ""), nodes=nodes,
                     pe=chosen.pe if chosen else "")
