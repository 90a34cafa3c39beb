"""What a batch job looks like on the system: its folder, the files of each array task,
the shell lines a task runs, and the hash that recognises a chunk on a rerun.

A job folder ``<rundir>/wfl-<time>-<random>/`` holds ``job.sh`` and, for task T,
``chunk-T.xyz`` and ``positions-T.txt`` (sent), then ``out-T.xyz``, ``failed-T.xyz``,
``outcomes-T.jsonl``, ``log-T.txt`` and last ``status-T.json`` (written by the job). The
status file appears only once everything else is complete, so its presence is the signal.
A whole-input job (``whole.py``) is one array task with its own files: ``in/``, ``out/``,
``stdout-1.txt``, ``log-1.txt``, ``files-1.list`` (what it wrote into ``out/``) and last
``status-1.json``.
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import shlex
import time

from wflcli.io.writer import format_config

FOLDER_PREFIX = "wfl-"


def job_folder(rundir: str) -> str:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return posixpath.join(rundir, f"{FOLDER_PREFIX}{stamp}-{os.urandom(3).hex()}")


_SUFFIXES = {"chunk": "xyz", "positions": "txt", "out": "xyz", "failed": "xyz",
             "outcomes": "jsonl", "log": "txt", "status": "json", "stdout": "txt",
             "files": "list"}


def task_file(kind: str, task: int | str) -> str:
    """chunk, positions, out, failed, outcomes, log or status file of task ``task``."""
    return f"{kind}-{task}.{_SUFFIXES[kind]}"


def chunk_files(items: list) -> tuple[bytes, bytes]:
    """The chunk's extxyz and its configs' positions in the whole input."""
    text = "".join(format_config(atoms) for _, atoms, _ in items).encode()
    positions = "".join(f"{index}\n" for index, _, _ in items).encode()
    return text, positions


def chunk_hash(system: str, command: list[str], identity: str, text: bytes,
               positions: bytes) -> str:
    """Same system, same command, same task (``identity`` covers model files' content),
    same configs at the same places: same work."""
    digest = hashlib.sha256()
    for part in (system.encode(), json.dumps(command).encode(), identity.encode(), text,
                 positions):
        digest.update(len(part).to_bytes(8, "little"))
        digest.update(part)
    return digest.hexdigest()


def task_body(wfl: list[str], command: list[str]) -> list[str]:
    """The lines one array task runs (``$TASK`` set, in the job folder): ``wfl`` on the
    task's chunk (waited for in a loop, so that a trapped SIGTERM does not end the
    waiting), then its status file, written last and atomically."""
    files = {kind: f'"{task_file(kind, "$TASK")}"' for kind in _SUFFIXES}
    run = (f"{shlex.join(wfl)} --no-cache -q --outcomes {files['outcomes']} "
           f"--positions {files['positions']} {shlex.join(command)} {files['chunk']} "
           f"-o {files['out']} --failed {files['failed']} > {files['log']} 2>&1 &")
    return [
        # told to stop (SIGTERM) while setting up: end as killed, starting nothing
        'if [ -e "${WFL_DRAIN_FILE:-/nonexistent}" ]; then exit 143; fi',
        run,
        "pid=$!",
        'while wait "$pid"; code=$?; [ "$code" -gt 128 ] && kill -0 "$pid" 2>/dev/null; do :; '
        "done",
        f"sum=$(sha256sum {files['outcomes']} 2>/dev/null | cut -d ' ' -f 1)",
        f"printf '{{\"task\": %s, \"exit\": %s, \"sha256\": \"%s\"}}\\n' \"$TASK\" \"$code\" "
        f"\"$sum\" > {files['status']}.part",
        f"mv -f {files['status']}.part {files['status']}",
        'case $code in 0|3) exit 0;; *) exit "$code";; esac',
    ]
