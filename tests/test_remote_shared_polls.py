"""One shared poller per system: concurrent wfl clients of one user take each other's
fresh queue answers from the store, so four of them make about the queue queries of one.
Every real ``squeue`` is counted by a wrapper first on PATH (the test SLURM through the
local transport, so the clients' own PATH is the one that runs it)."""

from __future__ import annotations

import os
import subprocess

import pytest

from helpers_data import rattled_cells, write_configs
from helpers_remote import records, require_cluster, system_toml, write_config
from helpers_wfl import wfl_argv

pytestmark = [pytest.mark.cluster, pytest.mark.slow]


def test_four_concurrent_clients_make_the_queries_of_one(tmp_path):
    require_cluster("slurm")
    calls = tmp_path / "squeue-calls"
    folder = tmp_path / "bin"
    folder.mkdir()
    (folder / "squeue").write_text(f'#!/bin/sh\necho "$@" >> {calls}\nexec /usr/bin/squeue '
                                   '"$@"\n')
    (folder / "squeue").chmod(0o755)
    env = {**os.environ, "PATH": f"{folder}:{os.environ['PATH']}"}
    for name in ("one", "four"):
        write_config(system_toml(name, "slurm", tmp_path / name, ssh=False,
                                 commands=("sleep 3",)))
    inputs = [write_configs(tmp_path / f"in{i}.xyz", rattled_cells(2, stdev=0.02 + 0.01 * i))
              for i in range(4)]
    together = tmp_path / "all.xyz"
    together.write_bytes(b"".join(path.read_bytes() for path in inputs))

    def client(system, path):
        return subprocess.Popen(wfl_argv("--no-cache", "--remote", system, "--per-job", "2",
                                    "calc", "--calc", "emt", path), env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    alone = client("one", together)
    out, err = alone.communicate(timeout=300)
    assert alone.returncode == 0, err
    one = len(calls.read_text().splitlines())
    calls.unlink()
    clients = [client("four", path) for path in inputs]
    outputs = [c.communicate(timeout=300) for c in clients]
    assert all(c.returncode == 0 for c in clients), [e for _, e in outputs]
    assert b"".join(o for o, _ in outputs) == out  # the same results, input by input
    four = len(calls.read_text().splitlines())
    print(f"queue queries: one client with 4 tasks {one}, four clients with 1 task each "
          f"{four}")
    assert four <= 1.5 * one, (one, four)
    assert sum(b"more answered by other wfl processes" in e and
               not e.count(b"(0 more answered") for _, e in outputs) >= 1
    assert len(records("four")) == 4
