"""Messages as a user reads them: a global option given after the verb says where it goes,
`wfl remote show` counts tries as `ls` does and says what is true of a task's files, and
the cost line of a batch run speaks the user's words."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from helpers_data import rattled_cells, write_configs
from helpers_remote import records, system_toml, write_config
from helpers_wfl import PROGRAM


@pytest.mark.parametrize("args, told", [
    (["rattle", "--seed", "3", "-n", "2", "cu.xyz"],
     "--seed is a global option: give it before the verb, as in wfl --seed N rattle ..."),
    (["remote", "ls", "--seed", "3"],
     "--seed is a global option: give it before the verb, as in wfl --seed N remote ls ..."),
    (["calc", "--calc", "emt", "--remote", "x", "cu.xyz"],
     "--remote is a global option: give it before the verb, as in wfl --remote SYS calc ..."),
    (["calc", "--calc", "emt", "-q", "cu.xyz"],
     "-q is a global option: give it before the verb, as in wfl -q calc ..."),
    (["calc", "--calc", "emt", "--sed", "3", "cu.xyz"],
     "no such option: --sed; did you mean the global option --seed? It goes before the "
     "verb, as in wfl --seed N calc ..."),
])
def test_a_global_option_after_the_verb_says_it_is_global_and_where_it_goes(wfl, args, told):
    result = wfl(*args)
    assert result.code == 2 and result.stderr.splitlines()[-1] == f"Error: {told}"
    assert "Did you mean" not in result.stderr  # not the verb's look-alike (--stdev)


def test_a_verb_option_misspelt_still_gets_the_verb_option(wfl):
    result = wfl("rattle", "--stdevv", "0.1")
    assert result.code == 2 and "Did you mean '--stdev'?" in result.stderr


@pytest.mark.slow
def test_remote_show_counts_tries_as_ls_does_and_says_what_is_true_of_its_files(tmp_path):
    write_config(system_toml("here", "local", tmp_path / "runs", ssh=False))
    cells = write_configs(tmp_path / "in.xyz", rattled_cells(2, "Cu", (1, 1, 1)))
    run = subprocess.run([PROGRAM, "--remote", "here", "calc", "--calc", "emt", cells],
                         capture_output=True, text=True, timeout=240)
    assert run.returncode == 0, run.stderr
    assert "post-mortem" not in run.stderr
    assert "0 accounting look-up(s) for tasks that left the queue" in run.stderr
    (task,) = records("here")
    listed = subprocess.run([PROGRAM, "remote", "ls"], capture_output=True, text=True, timeout=60)
    header, row = listed.stdout.splitlines()
    assert row.split()[header.split().index("TRY")] == "1"
    shown = subprocess.run([PROGRAM, "remote", "show", str(task["id"])], capture_output=True,
                           text=True, timeout=60).stdout
    assert re.search(r"^try: +1$", shown, re.M) and "attempt" not in shown
    assert "(no log yet)" not in shown  # the task is done: its log is there, empty (-q)
    assert "(empty: wfl printed nothing, as a task that ran without trouble)" in shown
    assert '"exit": 0' in shown
    shutil.rmtree(task["folder"])
    gone = subprocess.run([PROGRAM, "remote", "show", str(task["id"])], capture_output=True,
                          text=True, timeout=60).stdout
    assert gone.count("(gone: the job folder was removed)") == 3  # status, script, log
