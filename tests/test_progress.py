"""What a person sees on a terminal while a verb runs (through a pseudo-terminal): the
total, configs done, steps of dynamics in flight, and one closing line; in a pipe or a
log, nothing."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest

from helpers_data import rattled_cells, write_configs
from helpers_wfl import PROGRAM, wfl_program
from helpers_pty import Shell


@pytest.fixture
def terminal(tmp_path):
    write_configs(tmp_path / "cells.xyz", rattled_cells(6, "Cu", (1, 1, 1)))
    env = dict(os.environ, PATH=f"{Path(PROGRAM).parent}{os.pathsep}{os.environ['PATH']}",
               WFLCLI_HOME=str(tmp_path / "home"))
    session = Shell("bash", tmp_path, env, term="xterm", columns=160)
    yield session
    session.close()


def _run(terminal, command: str, timeout: float = 240) -> str:
    """The screen from typing ``command`` until it ended; ``END-<exit code>`` closes it."""
    terminal.type(f"{command}; echo END-$?\n")
    shown, start = "", time.monotonic()
    while not re.search(r"END-\d", shown) and time.monotonic() - start < timeout:
        shown += terminal.screen(settle=0.3)
    return shown


@pytest.mark.slow
def test_md_shows_total_steps_and_a_closing_line(terminal):
    shown = _run(terminal, "wfl --parallel 2 md --calc emt --ensemble langevin -T 300 "
                           "--steps 400 --every 100 cells.xyz -o md.xyz")
    assert "END-0" in shown
    assert "/6 configs" in shown and " steps" in shown  # steps show before configs finish
    assert "wfl md: 6 configs in " in shown and "configs/s" in shown


@pytest.mark.slow
def test_the_closing_line_counts_cache_hits_and_quiet_drops_it(terminal):
    _run(terminal, "wfl calc --calc emt cells.xyz -o a.xyz")
    again = _run(terminal, "wfl calc --calc emt cells.xyz -o b.xyz")
    assert "wfl calc: 6 configs (6 from cache) in " in again
    assert "wfl calc:" not in _run(terminal, "wfl -q calc --calc emt cells.xyz -o c.xyz")


def test_nothing_on_stderr_when_it_is_not_a_terminal(tmp_path):
    write_configs(tmp_path / "cells.xyz", rattled_cells(3, "Cu", (1, 1, 1)))
    result = wfl_program("calc", "--calc", "emt", "cells.xyz", cwd=tmp_path, text=True, timeout=120,
                            env=dict(os.environ, WFLCLI_HOME=str(tmp_path / "home")))
    assert result.returncode == 0 and result.stderr == ""
