"""Sixteen wfl processes on one store at once, and what wflcli refuses to trust: data
fetched from a cluster is never unpickled or evaluated, the store is its owner's alone,
and ``wfl remote clean`` deletes nothing outside a system's rundir."""

from __future__ import annotations

import base64
import json
import os
import pickle
import sqlite3
import stat
import subprocess
from pathlib import Path

import pytest

from helpers_data import rattled_cells, write_configs
from helpers_remote import system_toml, write_config
from helpers_wfl import wfl_argv, wfl_program
from wflcli.exec.outcomes_file import LedgerError, read_ledger


@pytest.mark.slow
def test_sixteen_processes_share_one_store(tmp_path):
    store = Path(os.environ["WFLCLI_HOME"])
    sources = [write_configs(tmp_path / f"in{i}.xyz", rattled_cells(40 + 10 * i))
               for i in range(2)]
    rattled = write_configs(tmp_path / "to-forget.xyz", rattled_cells(20))
    assert wfl_program("rattle", "--copies", "2",
                       rattled).returncode == 0  # entries that clean removes
    commands = ([wfl_argv("--chunk", "5", "calc", "--calc", "emt", sources[i % 2])
                 for i in range(10)]
                + [wfl_argv("remote", "ls", "--json") for _ in range(3)]
                + [wfl_argv("cache", "clean", "--verb", "rattle", "--yes")
                   for _ in range(3)])
    procs = [subprocess.Popen(list(map(str, c)), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE) for c in commands]
    outputs = [p.communicate(timeout=300) for p in procs]
    results = [(p.returncode, out, err) for p, (out, err) in zip(procs, outputs)]
    assert [code for code, _, _ in results] == [0] * 16, [err for _, _, err in results]
    assert not any(b"locked" in err for _, _, err in results)
    calc_outputs = [out for code, out, _ in results[:10]]
    assert len(set(calc_outputs[0::2])) == len(set(calc_outputs[1::2])) == 1
    db = sqlite3.connect(store / "store.sqlite")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    counts = dict(db.execute("SELECT verb || ' ' || kind, COUNT(*) FROM results "
                             "GROUP BY verb, kind").fetchall())
    # every calc result kept (the 40 configs are the first 40 of the 50) with its copy
    # under the config's text, every rattle gone
    assert counts == {"calc annotation": 50, "calc outputs": 50}


def test_store_files_are_owner_only(tmp_path):
    source = write_configs(tmp_path / "in.xyz", rattled_cells(2))
    old = os.umask(0o000)  # even with a permissive umask
    try:
        wfl_program("calc", "--calc", "emt", str(source), check=True)
    finally:
        os.umask(old)
    store = Path(os.environ["WFLCLI_HOME"])
    assert stat.S_IMODE(store.stat().st_mode) == 0o700
    assert stat.S_IMODE((store / "store.sqlite").stat().st_mode) == 0o600


def test_fetched_outcomes_are_never_unpickled(tmp_path):
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    items = [(0, rattled_cells(1)[0], 1)]
    for kind in ("annotation", "outputs", "pickle"):
        line = json.dumps({"index": 0, "kind": kind, "payload": base64.b64encode(
            pickle.dumps(Exploit())).decode()})
        with pytest.raises(LedgerError):
            read_ledger(f"{line}\n{{\"end\": 1}}\n".encode(), items)
    assert not marker.exists()


def _record_done_tasks(folders) -> None:
    """One finished task record of system 'here' per folder, as a run would leave them."""
    from wflcli.store.jobs import open_job_store

    store = open_job_store()
    store.add([{"system": "here", "scheduler": "local", "job_id": "1", "task": 1,
                "state": "done", "verb": "calc", "command": "[]", "chunk_hash": str(i),
                "configs": 1, "folder": str(folder), "attempt": 0}
               for i, folder in enumerate(folders)])
    store.close()


def test_remote_clean_never_deletes_outside_the_rundir(tmp_path):
    rundir = tmp_path / "runs"
    write_config(system_toml("here", "local", rundir, ssh=False))
    victims = [tmp_path / "precious", rundir / ".." / "precious-too", rundir / "mine-not-wfl",
               rundir]
    rundir.mkdir()
    for victim in victims[:3]:
        victim.mkdir()
        (victim / "keep.txt").write_text("keep")
    ours = rundir / "wfl-20261124-000000-abcdef"
    ours.mkdir()
    _record_done_tasks([*victims, ours])
    done = wfl_program("remote", "clean", "--yes",
                          text=True)
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("outside the rundir") == 4
    assert all((victim / "keep.txt").read_text() == "keep" for victim in victims[:3])
    assert rundir.is_dir() and not ours.exists()


@pytest.mark.parametrize("dry_run, ssh", [
    (False, False), (True, False),
    pytest.param(False, True, marks=pytest.mark.cluster),  # through SFTP to the test sshd
])
def test_remote_clean_never_follows_a_symlinked_job_folder(tmp_path, dry_run, ssh):
    """A job folder replaced by a link to a folder elsewhere: kept (and the folder it points
    to untouched), named on stderr, its records kept; the real job folder goes. On main:
    'internal error: OSError: Cannot call rmtree on a symbolic link'."""
    rundir = tmp_path / "runs"
    if ssh:
        from helpers_remote import _ssh_reason

        if _ssh_reason():
            pytest.skip(_ssh_reason())
    write_config(system_toml("here", "local", rundir, ssh=ssh))
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "keep.txt").write_text("keep")
    rundir.mkdir()
    link = rundir / "wfl-20261124-000000-link00"
    link.symlink_to(precious, target_is_directory=True)
    ours = rundir / "wfl-20261124-000000-abcdef"
    ours.mkdir()
    _record_done_tasks([link, ours])
    done = wfl_program("remote", "clean", "--yes",
                           *(["--dry-run"] if dry_run else []), text=True)
    assert done.returncode == 0, done.stderr
    assert "internal error" not in done.stderr
    assert f"keeping here:{link} (a symbolic link: never followed" in done.stderr
    assert (precious / "keep.txt").read_text() == "keep" and link.is_symlink()
    assert ("would remove" if dry_run else "removed") + " 1 task record(s) and 1 job folder(s)" \
        in done.stdout
    assert ours.exists() == dry_run
    from wflcli.store.jobs import open_job_store

    store = open_job_store()
    left = [record.folder for record in store.select(None)]
    store.close()
    assert left == ([str(link), str(ours)] if dry_run else [str(link)])
