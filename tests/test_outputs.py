"""Outputs: two outputs of one command that are one file, or an output option given twice,
are usage errors before anything runs; ``-o`` respects what is there (devices and FIFOs
written in place, symlinks followed, modes kept). Special files are made in tmp_path,
never in the real /dev."""

from __future__ import annotations

import os
import stat

import pytest
from helpers_data import fifo_reader, read_text
from helpers_wfl import wfl_program

CU = '1\nProperties=species:S:1:pos:R:3 pbc="F F F"\nCu 0 0 0\n'
CU_OUT = 'Properties=species:S:1:pos:R:3 pbc="F F F"\nCu 0.0 0.0 0.0\n'
CU_FRAME = "1\n" + CU_OUT


@pytest.fixture
def cu(tmp_path):
    source = tmp_path / "in.xyz"
    source.write_text(CU * 2)
    return source


def assert_usage_error(done, *words):
    assert done.code == 2, done.stderr
    assert "Traceback" not in done.stderr
    for word in words:
        assert word in done.stderr, done.stderr


def files_in(folder):
    return sorted(p.name for p in folder.iterdir())


# (verb and its options before the output options, the two output options)
PAIRS = [
    (["calc", "--calc", "emt"], "-o", "--failed"),
    (["md", "--calc", "emt", "--steps", "1"], "-o", "--failed"),
    (["optimize", "--calc", "emt"], "-o", "--failed"),
    (["rattle"], "-o", "--failed"),
    (["split"], "--train", "--test"),
    (["filter", "natoms > 0"], "-o", "--rejected"),
    (["select-fps", "-n", "1", "--key", "x"], "-o", "--rest"),
]


def _spell(tmp_path, how):
    """Two spellings of one file: the same path, ./ and .., a symlink, a hard link."""
    (tmp_path / "sub").mkdir()
    first = tmp_path / "out.xyz"
    if how == "same path":
        return first, first
    if how == "dot and dot-dot":
        return first, tmp_path / "sub" / ".." / "." / "out.xyz"
    first.write_text("old\n")
    other = tmp_path / "sub" / "other.xyz"
    if how == "symlink":
        other.symlink_to(first)
    else:
        os.link(first, other)
    return first, other


@pytest.mark.parametrize("how", ["same path", "dot and dot-dot", "symlink", "hard link"])
@pytest.mark.parametrize("verb, first_flag, second_flag", PAIRS, ids=[p[0][0] for p in PAIRS])
def test_two_outputs_that_are_one_file_are_a_usage_error(wfl, tmp_path, cu, verb, first_flag,
                                                         second_flag, how):
    first, second = _spell(tmp_path, how)
    before = files_in(tmp_path)
    done = wfl(*verb, first_flag, first, second_flag, second, cu)
    assert_usage_error(done, "same file", first_flag, second_flag)
    assert done.stdout == ""
    assert files_in(tmp_path) == before  # nothing ran, nothing written
    if how in ("symlink", "hard link"):
        assert first.read_text() == "old\n"


def test_smiles_outputs_are_checked(wfl, tmp_path):
    out = tmp_path / "m.xyz"
    assert_usage_error(wfl("smiles", "C", "-o", out, "--failed", out), "same file")


def test_the_global_outcomes_file_is_an_output_too(wfl, tmp_path, cu):
    out = tmp_path / "o.xyz"
    done = wfl("--outcomes", out, "calc", "--calc", "emt", cu, "-o", out)
    assert_usage_error(done, "same file")


@pytest.mark.parametrize("args", [
    ["calc", "--calc", "emt", "-o", "a.xyz", "-o", "b.xyz"],
    ["calc", "--calc", "emt", "--failed", "a.xyz", "--failed", "b.xyz"],
    ["cat", "-o", "a.xyz", "--output", "b.xyz"],
    ["split", "--train", "a.xyz", "--train", "b.xyz", "--test", "c.xyz"],
    ["filter", "natoms > 0", "--rejected", "a.xyz", "--rejected", "b.xyz"],
    ["atoms", "H", "-o", "a.xyz", "-o", "b.xyz"],
    ["error", "--ref", "A_", "--pred", "B_", "--plot", "a.png", "--plot", "b.png"],
])
def test_a_repeated_output_option_is_a_usage_error(wfl, tmp_path, cu, args):
    os.chdir(tmp_path)
    done = wfl(*args, cu)
    assert_usage_error(done, "given 2 times", "give it once")
    assert files_in(tmp_path) == ["in.xyz"]


def test_outputs_into_one_device_are_not_a_clash(wfl, tmp_path, cu):
    sink = _null_device(tmp_path)
    done = wfl("calc", "--calc", "emt", cu, "-o", sink, "--failed", sink)
    assert done.code == 0, done.stderr
    assert stat.S_ISCHR(os.stat(sink).st_mode)


def test_output_may_be_the_input_it_is_read_first(wfl, tmp_path, cu):
    """Decided: safe, not an error. The output is a temporary file renamed into place when
    complete, after the input has been read to its end."""
    expected = tmp_path / "expected.xyz"
    assert wfl("calc", "--calc", "emt", cu, "-o", expected).code == 0
    done = wfl("calc", "--calc", "emt", cu, "-o", cu)
    assert done.code == 0, done.stderr
    assert cu.read_text() == expected.read_text()
    other = tmp_path / "b.xyz"
    other.write_text(CU)
    assert wfl("cat", cu, other, "-o", cu).code == 0
    assert len(read_text(cu.read_bytes())) == 3


def test_fit_gap_model_may_not_replace_its_training_data(wfl, tmp_path, cu):
    pytest.importorskip("quippy", reason="quippy-ase is the gap extra; CI installs it")
    done = wfl("fit-gap", cu, "-o", cu, "--gap", "distance_2b cutoff=3")
    assert_usage_error(done, "is the input")
    assert cu.read_text() == CU * 2


# --- item 7: what -o replaces -----------------------------------------------------------

def _null_device(folder):
    """A character device like /dev/null (1, 3), made in ``folder``."""
    node = folder / "null"
    try:
        os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("mknod of a character device needs root (CI runs as root)")
    return node


def test_a_device_is_written_in_place_not_replaced(wfl, tmp_path, cu):
    node = _null_device(tmp_path)
    done = wfl("cat", cu, "-o", node)
    assert done.code == 0, done.stderr
    status = os.stat(node)
    assert stat.S_ISCHR(status.st_mode) and status.st_rdev == os.makedev(1, 3)
    assert files_in(tmp_path) == ["in.xyz", "null"]


def test_a_fifo_is_written_in_place(wfl, tmp_path, cu):
    fifo = tmp_path / "pipe"
    reader, received = fifo_reader(fifo)
    done = wfl("cat", cu, "-o", fifo)
    reader.join(timeout=15)  # a FIFO replaced by a file would leave the reader waiting
    assert done.code == 0, done.stderr
    assert received == [(CU_FRAME * 2).encode()]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert files_in(tmp_path) == ["in.xyz", "pipe"]


def test_a_symlink_to_stdout_stays_a_symlink_and_the_data_goes_to_stdout(tmp_path, cu):
    link = tmp_path / "stdout-link"
    link.symlink_to("/proc/self/fd/1")
    done = wfl_program("cat", str(cu), "-o", str(link),
                          check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode() == CU_FRAME * 2
    assert os.readlink(link) == "/proc/self/fd/1"


def test_a_symlink_is_followed_and_its_target_replaced(wfl, tmp_path, cu):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    target = elsewhere / "real.xyz"
    target.write_text("old\n")
    target.chmod(0o640)
    link = tmp_path / "link.xyz"
    link.symlink_to(target)
    assert wfl("cat", cu, "-o", link).code == 0
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text() == CU_FRAME * 2
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert files_in(elsewhere) == ["real.xyz"]


def test_a_dangling_symlink_gets_its_target_made(wfl, tmp_path, cu):
    link = tmp_path / "link.xyz"
    link.symlink_to(tmp_path / "new.xyz")
    assert wfl("cat", cu, "-o", link).code == 0
    assert link.is_symlink() and (tmp_path / "new.xyz").read_text() == CU_FRAME * 2


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o755])
def test_an_existing_file_keeps_its_mode(wfl, tmp_path, cu, mode):
    out = tmp_path / "out.xyz"
    out.write_text("old\n")
    out.chmod(mode)
    assert wfl("cat", cu, "-o", out).code == 0
    assert stat.S_IMODE(out.stat().st_mode) == mode and out.read_text() == CU_FRAME * 2


def test_a_new_file_gets_the_umask_mode(wfl, tmp_path, cu):
    previous = os.umask(0o027)
    try:
        assert wfl("cat", cu, "-o", tmp_path / "new.xyz").code == 0
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "new.xyz").stat().st_mode) == 0o640


def test_every_file_writing_option_goes_through_the_central_check():
    """Each option whose name says it writes a file is made by ``output_file_option``."""
    from wflcli.cli.main import COMMANDS, cli
    from wflcli.cli.outputs import _claim

    writing = {"--output", "--failed", "--rest", "--rejected", "--train", "--test", "--plot",
               "--outcomes"}
    reading = {("fit-mace", "--test")}  # the same name, but a file that fit-mace reads
    found = []
    commands = [cli] + [cli.get_command(None, name) for name in COMMANDS]
    for command in commands:
        for param in command.params:
            if writing & set(param.opts) and (command.name, param.opts[-1]) not in reading:
                found.append((command.name, param.opts[-1]))
                assert param.callback is _claim, (command.name, param.opts)
    assert ("calc", "--failed") in found and ("split", "--test") in found
    assert ("fit-gap", "--output") in found and ("cli", "--outcomes") in found
