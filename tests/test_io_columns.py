"""An array that a filter names is read from the frame's rows alone, without making the
Atoms, where the frame's text is proved to be the written form; the array is exactly the
one the Atoms would hold."""

from __future__ import annotations

import io

import numpy as np
import pytest
from ase.build import bulk
from test_io_comment_values import assert_filter_keeps_what_the_atoms_say

from wflcli.io import canonical
from wflcli.io.reader import FrameReader
from wflcli.io.writer import format_config
from wflcli.verbs.filter import FrameNames


def _frames_with_columns(count: int, label: str = "md") -> str:
    """Frames written by wfl with a column of each kind: reals (3 and 1), ints, bools,
    text."""
    texts = []
    for i in range(count):
        cu = bulk("Cu", "fcc", a=3.61, cubic=True)
        cu.rattle(0.05, seed=i)
        rng = np.random.default_rng(i)
        cu.arrays["REF_forces"] = rng.normal(size=(4, 3)) * 10.0 ** (i % 5 - 3)
        cu.arrays["charge"] = rng.normal(size=4)
        cu.arrays["tag_int"] = rng.integers(-50, 50, size=4)
        cu.arrays["is_core"] = rng.random(4) > 0.5
        cu.arrays["kind"] = np.array(list("abcd"))[rng.permutation(4)]
        cu.info.update(REF_energy=float(rng.normal()), label=label)
        texts.append(format_config(cu))
    return "".join(texts)


NAMES = ["REF_forces", "charges", "tag_int", "is_core", "kind"]


@pytest.mark.parametrize("label", ["md", 'say "hi"'], ids=["plain pairs", "escaped quotes"])
def test_columns_read_alone_are_the_arrays_of_the_atoms(monkeypatch, label):
    monkeypatch.setattr(canonical, "_shapes", {})
    text = _frames_with_columns(10, label)
    frames = list(FrameReader(io.BytesIO(text.encode()), "t.xyz").frames())
    configs = list(FrameReader(io.BytesIO(text.encode()), "t.xyz"))
    for frame in frames:
        frame.check()
    later = [(f, a) for f, a in zip(frames, configs) if f._atoms is None]
    assert len(later) >= 5
    for frame, atoms in later:
        names = FrameNames(frame, {})
        for name in NAMES:
            value, expected = names[name], atoms.arrays[name]
            assert name in names
            assert value.dtype == expected.dtype and value.shape == expected.shape
            assert value.tobytes() == expected.tobytes()
        assert frame._atoms is None  # read from the rows
        for name in ("positions", "numbers"):  # made by the Atoms, not read as they are
            assert frame.column(name) is None
            assert np.array_equal(names[name], atoms.arrays[name])
        assert frame._atoms is not None


@pytest.mark.parametrize("expression", [
    "max(norm(REF_forces)) < 0.01", "charges[0] > 0", "sum(tag_int) > 0", "is_core[1]",
    'kind[0] == "a"', "REF_forces[2][1] < 0 and REF_energy > -0.5", "min(REF_forces) > -0.01",
])
def test_filter_on_columns_keeps_what_the_atoms_say(tmp_path, expression):
    assert_filter_keeps_what_the_atoms_say(tmp_path, _frames_with_columns(16), expression)
