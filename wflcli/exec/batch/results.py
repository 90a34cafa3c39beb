"""Reading what a finished array task left in its folder: its status file, its outcomes
checked against the status file's checksum, and the last line of its log."""

from __future__ import annotations

import hashlib
import json
import posixpath

from wflcli.exec.batch.layout import task_file
from wflcli.exec.batch.observe import last_line
from wflcli.exec.batch.spec import RemoteRunError
from wflcli.exec.outcomes_file import read_ledger

FATAL_EXITS = {1, 2, 126, 127}  # wfl refused the run itself: retrying cannot help


async def read_status(transport, record) -> dict:
    """The array task's status file (``exit``, and more): FileNotFoundError when absent."""
    return json.loads(await transport.get(posixpath.join(
        record.folder, task_file("status", record.task))))


async def read_outcomes(transport, system_name: str, record, items: list, localize=None):
    """(outcomes, None) of a finished array task, or (None, why they are unusable);
    RemoteRunError when wfl itself refused to run there. ``localize`` turns the paths of
    staged copies in the file back into the user's own."""
    try:
        status = await read_status(transport, record)
        code = int(status["exit"])
        if code in FATAL_EXITS:
            raise RemoteRunError(f"{system_name}: wfl failed in job {record.job_id} "
                                 f"task {record.task} (exit {code}): "
                                 f"{await log_tail(transport, record)}")
        if code not in (0, 3):
            return None, f"wfl ended with exit code {code}: {await log_tail(transport, record)}"
        data = await transport.get(posixpath.join(record.folder,
                                                  task_file("outcomes", record.task)))
        if status.get("sha256") and hashlib.sha256(data).hexdigest() != status["sha256"]:
            return None, "its outcomes file does not match the checksum in its status file"
        if localize is not None:
            data = localize(data)
        return read_ledger(data, items), None
    except FileNotFoundError as exc:
        return None, f"{posixpath.basename(exc.filename or str(exc))} is missing"
    except (ValueError, KeyError, TypeError) as exc:  # LedgerError is a ValueError
        return None, f"its results are unreadable ({exc})"


async def read_log(transport, record) -> str | None:
    """The array task's log (wfl's stderr there); None when it wrote none."""
    try:
        data = await transport.get(posixpath.join(record.folder,
                                                  task_file("log", record.task)))
    except FileNotFoundError:
        return None
    return data.decode(errors="replace")


async def log_tail(transport, record) -> str:
    log = await read_log(transport, record)
    return "no log" if log is None else last_line(log) or "empty log"
