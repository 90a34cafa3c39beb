"""The executor core seen from outside: --parallel, ordering, streaming, signals, pipes."""

from __future__ import annotations

import io
import os
import select
import signal
import subprocess
import sys
import time

import ase.io
import pytest

from helpers_data import rattled_cells
from helpers_wfl import PROGRAM, wfl_argv, wfl_program
from wflcli.io.reader import FrameReader
from wflcli.io.writer import format_config

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def many_cells(tmp_path_factory):
    """300 cells of varied size (1 to 108 atoms), so chunks finish out of order."""
    configs = []
    for i in range(100):
        for repeat in ((1, 1, 1), (3, 3, 3), (2, 1, 1)):
            atoms = rattled_cells(1, "Cu", repeat)[0]
            atoms.rattle(0.05, seed=1000 + i)
            atoms.info["i"] = len(configs)
            configs.append(atoms)
    path = tmp_path_factory.mktemp("cells") / "many.xyz"
    path.write_text("".join(format_config(a) for a in configs))
    return path


def test_parallel_output_is_byte_identical_to_serial(many_cells):
    serial = wfl_program("calc", "--calc", "emt", many_cells)
    assert serial.returncode == 0, serial.stderr
    for args in (["--parallel", "2"], ["--parallel", "2", "--chunk", "1"],
                 ["--parallel", "3", "--chunk", "7"]):
        parallel = wfl_program(*args, "calc", "--calc", "emt", many_cells)
        assert parallel.returncode == 0, parallel.stderr
        assert parallel.stdout == serial.stdout, args
    order = [a.info["i"] for a in ase.io.read(many_cells, ":")]
    assert order == list(range(300))


def test_parallel_from_environment(many_cells):
    serial = wfl_program("calc", "--calc", "emt", many_cells)
    env = dict(os.environ, WFL_PARALLEL="2")
    assert wfl_program("calc", "--calc", "emt", many_cells, env=env).stdout == serial.stdout


def test_failures_under_parallel_keep_order_and_exit_3(tmp_path):
    from ase.build import bulk

    configs = rattled_cells(6, "Cu", (1, 1, 1))
    configs.insert(3, bulk("Si", "diamond", a=5.43))
    src = tmp_path / "in.xyz"
    src.write_text("".join(format_config(a) for a in configs))
    result = wfl_program("--parallel", "2", "--chunk", "2", "calc", "--calc", "emt", src)
    assert result.returncode == 3
    out = list(FrameReader(io.BytesIO(result.stdout), "out"))
    assert [len(a) for a in out] == [len(a) for a in configs]
    assert ["wfl_error" in a.info for a in out] == [False] * 3 + [True] + [False] * 3
    assert b"1 of 7 configs failed" in result.stderr


@pytest.mark.parametrize("parallel", ["1", "2"])
def test_results_stream_before_the_input_ends(parallel):
    """A slow producer: the first result must come out while the producer still waits."""
    frames = [format_config(a) for a in rattled_cells(3, "Cu", (1, 1, 1))]
    proc = subprocess.Popen(wfl_argv("--parallel", parallel, "calc", "--calc", "emt"),
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        proc.stdin.write(frames[0].encode())
        proc.stdin.flush()
        started = time.monotonic()
        ready, _, _ = select.select([proc.stdout], [], [], 60)  # stdin is still open
        assert ready, "no result while the input was still open (the reader waits for more)"
        first_line = proc.stdout.readline()
        assert first_line == b"4\n"
        assert time.monotonic() - started < 30
        for frame in frames[1:]:
            proc.stdin.write(frame.encode())
        proc.stdin.close()
        rest = proc.stdout.read()
        assert proc.wait(timeout=60) == 0
        assert (first_line + rest).count(b"emt_energy=") == 3
    finally:
        proc.kill()


def slow_calculator_env(tmp_path):
    """A calculator that sleeps, importable by the wfl subprocess."""
    (tmp_path / "slowcalc.py").write_text(
        "import time\n"
        "from ase.calculators.emt import EMT\n"
        "class SlowEMT(EMT):\n"
        "    def calculate(self, *args, **kwargs):\n"
        "        time.sleep(0.2)\n"
        "        super().calculate(*args, **kwargs)\n")
    return dict(os.environ, PYTHONPATH=str(tmp_path))


# Runs a command as the child of a parent that adopts orphans and never reaps them, as the
# minimal init of a container or CI machine does: workers the command fails to reap itself
# stay visible as zombies. Prints the command's pid, then its exit code; holds until stdin
# closes.
NON_REAPING_PARENT = """
import ctypes, subprocess, sys
ctypes.CDLL(None).prctl(36, 1)  # PR_SET_CHILD_SUBREAPER
child = subprocess.Popen(sys.argv[1:], start_new_session=True, stdin=subprocess.DEVNULL)
print(child.pid, flush=True)
try:
    print(child.wait(timeout=30), flush=True)
except subprocess.TimeoutExpired:
    child.kill()
    print("timeout", flush=True)
sys.stdin.read()
"""


@pytest.mark.parametrize("sig,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
@pytest.mark.parametrize("options", [["--parallel", "1"], ["--parallel", "2"],
                                     ["--parallel", "2", "--no-cache"]])  # the fastest exit
def test_interrupt_stops_promptly_and_leaves_no_partial_file(tmp_path, sig, code, options):
    src = tmp_path / "in.xyz"
    src.write_text("".join(format_config(a) for a in rattled_cells(200, "Cu", (1, 1, 1))))
    out = tmp_path / "out.xyz"
    out.write_text("previous\n")
    parent = subprocess.Popen([sys.executable, "-c", NON_REAPING_PARENT, PROGRAM,
                               *options, "calc", "--calc",
                               "python:slowcalc:SlowEMT", src, "-o", out],
                              env=slow_calculator_env(tmp_path), stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        pid = int(parent.stdout.readline())
        time.sleep(3)
        sent = time.monotonic()
        os.killpg(pid, sig)  # as a terminal's Ctrl-C does: the whole process group
        assert parent.stdout.readline().strip() == str(code)
        assert time.monotonic() - sent < 5
        assert out.read_text() == "previous\n"
        assert sorted(p.name for p in tmp_path.iterdir()) == ["in.xyz", "out.xyz", "slowcalc.py"]
        time.sleep(0.5)
        left = subprocess.run(["ps", "-o", "pid=,stat=", "-s", str(pid)],
                              capture_output=True, text=True).stdout
        assert left == "", f"workers left behind (Z = never reaped):\n{left}"
    finally:
        _, errors = parent.communicate(timeout=10)
    assert "wfl: interrupted" in errors or sig != signal.SIGINT


def test_closed_pipe_ends_quietly(tmp_path):
    src = tmp_path / "in.xyz"
    src.write_text("".join(format_config(a) for a in rattled_cells(300, "Cu", (1, 1, 1))))
    for parallel in ("1", "2"):
        result = subprocess.run(f"set -o pipefail; '{PROGRAM}' --parallel {parallel} "
                                f"calc --calc emt '{src}' | head -1",
                                shell=True, executable="/bin/bash", capture_output=True,
                                timeout=60)
        assert result.returncode == 0
        assert result.stdout == b"4\n"
        assert result.stderr == b""


def test_stdout_carries_only_data_even_when_a_calculator_prints(tmp_path):
    (tmp_path / "noisy.py").write_text(
        "import os\n"
        "from ase.calculators.emt import EMT\n"
        "class NoisyEMT(EMT):\n"
        "    def calculate(self, *args, **kwargs):\n"
        "        print('a python print')\n"
        "        os.write(1, b'a write to descriptor 1, as C or Fortran code does\\n')\n"
        "        super().calculate(*args, **kwargs)\n")
    src = tmp_path / "in.xyz"
    src.write_text("".join(format_config(a) for a in rattled_cells(4, "Cu", (1, 1, 1))))
    env = dict(os.environ, PYTHONPATH=str(tmp_path), WFLCLI_HOME=str(tmp_path / "store"))
    for parallel in ("1", "2"):
        result = wfl_program("--no-cache", "--parallel", parallel, "calc",
                "--calc", "python:noisy:NoisyEMT", src, env=env, timeout=60)
        assert result.returncode == 0
        assert b"print" not in result.stdout and b"descriptor" not in result.stdout
        assert len(list(FrameReader(io.BytesIO(result.stdout), "out"))) == 4
        assert result.stderr.count(b"a python print") == 4


# Adopts the orphans of the command it starts and reaps every one that ends, so a worker
# that ended leaves no zombie behind (this machine's init never reaps). Prints the
# command's pid; ends when stdin closes.
REAPING_PARENT = """
import ctypes, os, subprocess, sys, threading, time
ctypes.CDLL(None).prctl(36, 1)  # PR_SET_CHILD_SUBREAPER
child = subprocess.Popen(sys.argv[1:], start_new_session=True, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL)
print(child.pid, flush=True)
threading.Thread(target=sys.stdin.read, daemon=True).start()
while threading.active_count() > 1:
    try:
        if os.waitpid(-1, os.WNOHANG)[0] == 0:
            time.sleep(0.05)
    except ChildProcessError:
        time.sleep(0.05)
"""


def _children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as stream:
        return [int(word) for word in stream.read().split()]


def _alive(pid: int) -> bool:
    """Running, not a zombie (a zombie has ended: only its exit status is left)."""
    try:
        with open(f"/proc/{pid}/stat") as stream:
            return stream.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _workers_outlive_a_killed_parent(argv: list, env: dict) -> bool:
    """Start ``argv`` under REAPING_PARENT, wait for its two workers, SIGKILL it, and say
    whether a worker is still alive 5 s later (any left are killed)."""
    parent = subprocess.Popen([sys.executable, "-c", REAPING_PARENT, *map(str, argv)],
                              env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    workers: list[int] = []
    try:
        pid = int(parent.stdout.readline())
        deadline = time.monotonic() + 30
        while len(workers) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
            workers = _children(pid)
        assert len(workers) == 2, "the pool did not start"
        time.sleep(1)  # both are up (and, for wfl, computing)
        os.kill(pid, signal.SIGKILL)
        killed = time.monotonic()
        while any(map(_alive, workers)) and time.monotonic() - killed < 5:
            time.sleep(0.1)
        return any(map(_alive, workers))
    finally:
        for worker in filter(_alive, workers):
            os.kill(worker, signal.SIGKILL)
        parent.communicate(timeout=10)


def test_workers_end_when_their_parent_is_killed(tmp_path):
    """SIGKILL of `wfl --parallel 2 calc` (no cleanup can run): its workers end within
    seconds (measured: 0.03-0.05 s). On main both were still computing 90 s later."""
    src = tmp_path / "in.xyz"
    src.write_text("".join(format_config(a) for a in rattled_cells(200, "Cu", (1, 1, 1))))
    argv = wfl_argv("--no-cache", "--parallel", "2", "calc", "--calc",
            "python:slowcalc:SlowEMT", src)
    assert not _workers_outlive_a_killed_parent(argv, slow_calculator_env(tmp_path))


def test_workers_end_with_their_parent_where_prctl_is_missing():
    """The portable fallback (a thread watching for re-parenting), with the Linux request
    switched off as on a system without it."""
    script = ("import time, wflcli.exec.backends as b\n"
              "b._ask_for_death_signal = lambda: False\n"
              "pool = b.PoolBackend(2)\n"
              "time.sleep(60)\n")
    assert not _workers_outlive_a_killed_parent([sys.executable, "-c", script],
                                                dict(os.environ))


def test_tblite_serial_and_parallel_agree_to_the_bit(tmp_path):
    """Both run each calculation on one OpenMP/BLAS thread by default; on main a serial
    run used every core and differed from --parallel 2 in the last bits."""
    pytest.importorskip("tblite", reason="tblite is the xtb extra; CI installs it")
    pytest.importorskip("rdkit", reason="rdkit is the smiles extra; CI installs it")
    from wflcli.thread_variables import THREAD_VARIABLES

    env = {key: value for key, value in os.environ.items() if key not in THREAD_VARIABLES}
    env["WFLCLI_HOME"] = str(tmp_path / "store")
    molecules = wfl_program("smiles", "c1ccccc1", "CCCCCCCCO",
                                "CC(=O)Nc1ccc(O)cc1", "CCN", "CCCC", "c1ccncc1",
                               env=env, check=True).stdout
    outputs = [wfl_program("--no-cache", "--parallel", workers, "calc",
                               "--calc", "tblite", input=molecules, env=env, check=True).stdout
               for workers in ("1", "2")]
    assert outputs[0].count(b"tblite_energy=") == 6
    assert outputs[0] == outputs[1]
