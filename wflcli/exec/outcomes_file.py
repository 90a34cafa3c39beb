"""The outcomes of one batch task, as a job writes them and the client reads them back.

A job runs ``wfl --outcomes FILE VERB ...`` on its chunk. Beside its extxyz output it
writes one JSON line per input config: what the cache would keep (annotation or output
text), the failure, or that a draining task did not start it; then a closing line with the
count. The client rebuilds each Outcome from these lines and its own copy of the config,
so what it writes is what a local run writes, byte for byte. JSON and our own payload
format only: nothing fetched from a cluster is unpickled or evaluated.
"""

from __future__ import annotations

import base64
import json
import zlib

from wflcli.exec.payload import (
    ANNOTATION,
    OUTPUTS,
    decode_annotation,
    decode_outputs,
    stored_outputs,
)
from wflcli.exec.task import NOT_STARTED, Outcome, apply_annotation
from wflcli.io.writer import format_config


class LedgerError(ValueError):
    """The outcomes file is incomplete or not what this chunk asked for."""


def outcome_line(outcome: Outcome) -> str:
    if not outcome.started:
        return json.dumps({"index": outcome.index, "kind": NOT_STARTED}) + "\n"
    # outputs compressed as the store keeps them: these files travel back from a cluster
    payload = stored_outputs(outcome.payload) if outcome.kind == OUTPUTS else outcome.payload
    record = {"index": outcome.index, "kind": outcome.kind,
              "payload": base64.b64encode(payload).decode("ascii")}
    if outcome.failed or not outcome.kind:
        record.update(count=outcome.count, text=outcome.text, error=outcome.error,
                      failed_text=outcome.failed_text)
    return json.dumps(record, separators=(",", ":")) + "\n"


def closing_line(count: int) -> str:
    return json.dumps({"end": count}) + "\n"


def read_ledger(data: bytes, items: list) -> list[Outcome]:
    """Outcomes for ``items`` ((index, atoms, seed) as sent) from a task's outcomes file."""
    try:
        lines = data.decode("utf-8").splitlines()
        records = [json.loads(line) for line in lines]
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LedgerError(f"unreadable outcomes ({exc})") from None
    if not records or records[-1] != {"end": len(items)} or len(records) != len(items) + 1:
        raise LedgerError(f"incomplete outcomes ({len(records) - 1} lines for "
                          f"{len(items)} configs)")
    return [_outcome(record, *item) for record, item in zip(records, items)]


def _outcome(record: dict, index: int, atoms, seed: int) -> Outcome:
    try:
        if record["index"] != index:
            raise LedgerError(f"outcome for config {record['index']} where {index} was due")
        kind = record["kind"]
        if kind == NOT_STARTED:
            return Outcome(index, "", 0, kind=kind)
        payload = base64.b64decode(record["payload"], validate=True)
        if "error" in record or not kind:
            return Outcome(index, record["text"], record["count"], error=record.get("error"),
                           failed_text=record.get("failed_text", ""))
        if kind == ANNOTATION:
            atoms = atoms.copy()
            apply_annotation(atoms, decode_annotation(payload))
            return Outcome(index, format_config(atoms), 1, kind=kind, payload=payload)
        if kind == OUTPUTS:
            count, text = decode_outputs(payload)
            return Outcome(index, text, count, kind=kind, payload=payload)
    except LedgerError:
        raise
    except (KeyError, TypeError, ValueError, zlib.error) as exc:
        raise LedgerError(f"malformed outcome for config {index} ({exc!r})") from None
    raise LedgerError(f"unknown outcome kind {kind!r} for config {index}")


def not_started(data: bytes) -> int:
    """How many configs a task's outcomes file says were left for another task."""
    count = 0
    for line in data.decode("utf-8", errors="replace").splitlines():
        try:
            count += json.loads(line).get("kind") == NOT_STARTED
        except (json.JSONDecodeError, AttributeError):
            continue
    return count
