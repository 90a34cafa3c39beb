"""A serial run looks up the configs at hand together (a file's next frames): results,
hits and failures are what they are one config at a time."""

from __future__ import annotations

import pytest

from helpers_data import rattled_cells
from wflcli.exec.core import LOOKUP_GROUP
from wflcli.io.writer import format_config

COUNTING = "python:helpers_calc:CountingEMT"


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("WFLCLI_HOME", str(tmp_path / "store home"))


def _cells(count: int) -> list[str]:
    configs = rattled_cells(count, "Cu", (1, 1, 1))
    for i, atoms in enumerate(configs):
        atoms.info["n"] = i
    return [format_config(atoms) for atoms in configs]


def test_hits_and_misses_mixed_across_groups(wfl, store, calc_log, tmp_path):
    """Every third config computed before: the rest computed, all in input order, the
    output the same as an uncached run's."""
    frames = _cells(2 * LOOKUP_GROUP + 10)
    some = tmp_path / "some.xyz"
    some.write_text("".join(frames[::3]))
    assert wfl("calc", "--calc", COUNTING, some).code == 0
    assert calc_log() == len(frames[::3])
    src = tmp_path / "all.xyz"
    src.write_text("".join(frames))
    result = wfl("calc", "--calc", COUNTING, src)
    assert result.code == 0
    assert calc_log() == len(frames) - len(frames[::3])
    assert result.stdout == wfl("--no-cache", "calc", "--calc", COUNTING, src).stdout


def test_the_configs_before_a_bad_frame_come_out_before_the_error(wfl, store, tmp_path):
    good = _cells(5)
    src = tmp_path / "in.xyz"
    src.write_text("".join(good) + "1\nx=1\nH 0 0\n")
    result = wfl("calc", "--calc", "emt", src)
    assert result.code == 1
    lines = sum(len(frame.splitlines()) for frame in good)
    assert f"{src}:{lines + 3}:" in result.stderr
    assert result.stdout.count("emt_energy=") == 5  # each computed and written first


def test_a_second_source_is_not_read_before_the_first_is_done(wfl, store, tmp_path):
    """The last frame of a file is not at hand for the next source: both files' configs
    come out, in order, whatever their sizes."""
    frames = _cells(LOOKUP_GROUP + 3)
    first, second = tmp_path / "a.xyz", tmp_path / "b.xyz"
    first.write_text("".join(frames[:LOOKUP_GROUP - 1]))
    second.write_text("".join(frames[LOOKUP_GROUP - 1:]))
    split = wfl("calc", "--calc", "emt", first, second)
    whole = tmp_path / "whole.xyz"
    whole.write_text("".join(frames))
    assert split.code == 0 and split.stdout == wfl("calc", "--calc", "emt", whole).stdout
