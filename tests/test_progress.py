"""What a person sees on a terminal while a verb runs: the total, configs done, steps of
dynamics in flight, a fit's phase, a batch run's tasks, notices on lines of their own, and
one closing line; in a pipe or a log, nothing. The real terminal through a
pseudo-terminal; the rest in process, stderr taken for a terminal (cli/environment.py)."""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

import pytest

from helpers_data import rattled_cells, write_configs
from helpers_wfl import PROGRAM, wfl_program
from helpers_pty import Shell
from helpers_remote import system_toml, write_config
from helpers_terminal import in_terminal, on_screen, read_until


@pytest.fixture
def cells(tmp_path, monkeypatch):
    write_configs(tmp_path / "cells.xyz", rattled_cells(6, "Cu", (1, 1, 1)))
    monkeypatch.chdir(tmp_path)
    return tmp_path / "cells.xyz"


@pytest.fixture
def terminal(tmp_path, cells):
    env = dict(os.environ, PATH=f"{Path(PROGRAM).parent}{os.pathsep}{os.environ['PATH']}")
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


def test_a_run_leaves_one_closing_line_that_counts_cache_hits(cells):
    first = in_terminal("calc", "--calc", "emt", cells, "-o", "a.xyz")
    assert first.code == 0 and "/6" in first.stderr  # the bar was drawn, with the total
    assert len(first.screen) == 1 and re.fullmatch(
        r"wfl calc: 6 configs in [0-9.]+ s, [0-9.]+ configs/s", first.screen[0])
    again = in_terminal("calc", "--calc", "emt", cells, "-o", "b.xyz")
    assert again.screen[0].startswith("wfl calc: 6 configs (6 from cache) in ")
    assert in_terminal("-q", "calc", "--calc", "emt", cells, "-o", "c.xyz").stderr == ""


@pytest.mark.slow
def test_a_pipeline_shows_its_configs_the_steps_of_its_md_stage_and_cache_hits(terminal):
    command = ("wfl --parallel 2 pipe 'rattle | md --calc emt --ensemble langevin -T 300 "
               "--steps 400 --every 100 | calc --calc lj' cells.xyz -o {}.xyz")
    shown = _run(terminal, command.format("a"))
    assert "END-0" in shown
    assert "/6 configs" in shown and " steps" in shown
    assert "wfl pipe: 6 configs in " in shown
    assert "wfl pipe: 6 configs (6 from cache) in " in _run(terminal, command.format("b"))


def test_nothing_on_stderr_when_it_is_not_a_terminal(tmp_path):
    write_configs(tmp_path / "cells.xyz", rattled_cells(3, "Cu", (1, 1, 1)))
    result = wfl_program("calc", "--calc", "emt", "cells.xyz", cwd=tmp_path, text=True, timeout=120,
                            env=dict(os.environ, WFLCLI_HOME=str(tmp_path / "home")))
    assert result.returncode == 0 and result.stderr == ""


GAP_PHASES = ["reading the training configs", "gap_fit: starting on 9 configs",
              "gap_fit: reading the training set", "gap_fit: descriptors and sparse points",
              "gap_fit: sparse points by CUR", "gap_fit: descriptors and sparse points",
              "gap_fit: covariances of descriptor 1 of 2",
              "gap_fit: covariances of descriptor 2 of 2",
              "gap_fit: solving the linear system", "gap_fit: writing the model"]


def test_fit_gap_shows_its_phases_in_order_and_what_it_wrote(cells):
    pytest.importorskip("quippy", reason="quippy-ase is the gap extra; CI installs it")
    from wflcli.verbs.fit_gap import GapPhases

    write_configs(cells.parent / "eight.xyz", rattled_cells(8, "Cu", (1, 1, 1)))
    labelled = in_terminal("--no-cache", "calc", "--calc", "emt", "--prefix", "REF_",
                           "eight.xyz", "-o", "train.xyz")
    isolated = subprocess.run(f"'{PROGRAM}' atoms Cu | '{PROGRAM}' calc --calc emt "
                              "--prefix REF_ -o iso.xyz", shell=True, timeout=120)
    assert labelled.code == isolated.returncode == 0
    fit = in_terminal("fit-gap", "iso.xyz", "train.xyz", "-o", "G.xml", "--gap",
                      "distance_2b cutoff=4 covariance_type=ard_se delta=0.5 theta_uniform=1 "
                      "sparse_method=uniform n_sparse=10", "--gap",
                      "soap cutoff=3 l_max=3 n_max=4 atom_sigma=0.5 delta=0.2 zeta=4 "
                      "covariance_type=dot_product sparse_method=cur_points n_sparse=10")
    assert fit.code == 0, fit.stderr
    shown = re.findall(r"wfl fit-gap: (.+?) \x1b\[33m\d", fit.stderr)  # before the time
    assert [phase for number, phase in enumerate(shown)
            if phase != shown[number - 1] or not number][1:] == GAP_PHASES  # after 'starting'
    assert fit.screen == ["wfl fit-gap: wrote G.xml from 9 configs"]  # the spinner is gone
    told = []  # the same phases from gap_fit's own output, as its log keeps it
    follow = GapPhases(told.append)
    for line in Path("G.xml.log").read_text().splitlines():
        follow(line)
    assert told == GAP_PHASES[2:]


@pytest.mark.slow
def test_a_remote_run_shows_its_tasks_and_notices_on_lines_of_their_own(terminal, tmp_path):
    write_config(system_toml("here", "local", tmp_path / "runs", ssh=False))
    terminal.type("wfl --remote here --per-job 2 calc --calc emt cells.xyz -o out.xyz; "
                  "echo END-$?\n")
    shown = read_until(terminal, r"END-\d")
    assert "END-0" in shown
    frames = [re.sub(r"\x1b\[[0-9;]*m", "", frame) for frame in shown.split("\x1b[2K")]
    assert any("tasks 3 queued, 0 running, 0 ended" in frame for frame in frames)
    assert any("tasks 0 queued, 0 running, 3 ended" in frame for frame in frames)
    screen = on_screen(shown)
    submitted = [line for line in screen if "submitted job" in line]
    assert submitted and submitted[0].startswith("wfl calc: submitted job ")  # no spinner
    assert [line for line in screen if line.startswith("wfl calc: 6 configs in ")]


@pytest.mark.slow
def test_a_remote_run_in_a_pipe_prints_only_its_notices(tmp_path, cells):
    write_config(system_toml("here", "local", tmp_path / "runs", ssh=False))
    done = subprocess.run([PROGRAM, "--remote", "here", "--per-job", "3", "calc", "--calc",
                           "emt", "cells.xyz"], capture_output=True, text=True, timeout=240)
    assert done.returncode == 0
    lines = done.stderr.splitlines()
    assert lines[0].startswith("wfl calc: submitted job ") and "2 task(s)" in lines[0]
    assert lines[1].startswith("wfl calc: here: 1 job(s) with 2 task(s) submitted")
    assert len(lines) == 2 and "\x1b" not in done.stderr


def test_the_error_table_is_drawn_on_a_terminal_only(cells):
    labelled = in_terminal("--no-cache", "calc", "--calc", "emt", "--prefix", "REF_", cells,
                           "-o", "ref.xyz")
    assert labelled.code == 0
    assert in_terminal("calc", "--calc", "lj", "--prefix", "LJ_", "ref.xyz", "-o",
                       "both.xyz").code == 0
    table = in_terminal("error", "--ref", "REF_", "--pred", "LJ_", "both.xyz",
                        terminal=("stdout",))
    plain = in_terminal("error", "--ref", "REF_", "--pred", "LJ_", "both.xyz", terminal=())
    assert table.code == plain.code == 0
    assert "┃" in table.stdout and "\x1b[" in table.stdout  # rich's box, with its styles
    assert "┃" not in plain.stdout and "\x1b" not in plain.stdout
    for number in re.findall(r"\d+\.\d+", plain.stdout):  # the same numbers in both
        assert number in table.stdout


def test_removing_asks_on_a_terminal_and_needs_yes_elsewhere(cells):
    assert in_terminal("calc", "--calc", "emt", cells, "-o", "a.xyz").code == 0
    declined = in_terminal("cache", "clean", "--all", input="n\n", terminal=("stdin",))
    # 6 configs, each kept twice: its results, and its output under its text as read
    assert declined.code == 1 and re.match(r"remove 12 cached results \([0-9.]+ kB\)\? \[y/N\]",
                                           declined.stderr)
    assert declined.screen[-1] == "wfl: nothing removed"  # a choice, not "interrupted"
    refused = in_terminal("cache", "clean", "--all", terminal=())
    assert refused.code == 2 and "not removing without --yes" in refused.stderr
    agreed = in_terminal("cache", "clean", "--all", input="y\n", terminal=("stdin",))
    assert agreed.code == 0 and "removed 12 cached results" in agreed.stdout
