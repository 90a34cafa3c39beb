"""Info values read where they sit in a comment line (comment_values.py) are exactly the
values the full parse of that line gives: same types, same bits, same keys."""

from __future__ import annotations

import io

import numpy as np
import pytest
from ase.build import bulk
from helpers_data import identical
from helpers_wfl import wfl_program

from wflcli.io import canonical
from wflcli.io.comment_values import ValuePositions
from wflcli.io.keyvalue import parse_comment_line
from wflcli.io.reader import FrameReader
from wflcli.io.writer import format_config
from wflcli.verbs.expression import Expression

_CELL_KEYS = {"Lattice", "pbc", "Properties"}


def _varied(count: int, label: str = "bulk md") -> str:
    """Frames written by wfl whose numbers differ from frame to frame, of every form the
    writer makes: plain, exponents, tiny, huge, negative, 18-digit and zero integers."""
    frames = []
    for i in range(count):
        cu = bulk("Cu", "fcc", a=3.61 + 0.01 * i, cubic=True)
        cu.rattle(0.05, seed=i)
        rng = np.random.default_rng(i)
        cu.info.update(
            REF_energy=float(rng.normal()) * 10 ** (i % 7 - 3), idx=i * 7 - 3, zero=0,
            big=-(10 ** 16) * (i + 1), tiny=5e-324 * (i + 1), huge=2.5e16 * (i + 1),
            small=1.5e-7 * (i + 1), nil=-0.0, config_type=label if i % 3 else "opt",
            flag=True, uid=str(100 + i),
            REF_stress=rng.normal(size=6), vector=np.array([i, -i, 3]),
            stress=rng.normal(size=(3, 3)), ratio=float(i) + 0.5)
        frames.append(format_config(cu))
    return "".join(frames)


def _checked_frames(text: str) -> list:
    frames = list(FrameReader(io.BytesIO(text.encode()), "t.xyz").frames())
    for frame in frames:
        frame.check()
    return frames


@pytest.mark.parametrize("label,mapped", [("bulk md", True), ('say "hi"', False)],
                         ids=["plain pairs", "escaped quotes: parsed in full"])
def test_values_by_position_are_the_full_parse(monkeypatch, label, mapped):
    monkeypatch.setattr(canonical, "_shapes", {})
    frames = _checked_frames(_varied(20, label))
    later = [f for f in frames if f._atoms is None]
    assert len(later) >= 12  # most frames share a shape already judged: read by position
    for frame in later:
        by_position = mapped or b"say" not in frame.comment  # the label is on 2 in 3
        assert (frame._proved._positions is not None) == by_position
        full = parse_comment_line(frame.comment.decode())
        keys = set(full) - _CELL_KEYS
        for wanted in [keys | {"absent"}, *({key} for key in keys), {"absent"}]:
            got = frame.info_of(frozenset(wanted))
            expected = {k: v for k, v in full.items() if k in wanted}
            assert list(got) == list(expected)
            for key, value in expected.items():
                assert identical(got[key], value), (key, got[key], value)
        assert frame._atoms is None  # no Atoms made for it


def test_a_number_as_a_key_is_not_mapped():
    """``5`` here is a bare key (True) on one line and would be ``6`` on the next."""
    line = 'Properties=species:S:1:pos:R:3 a=1 5 b=2.5 pbc="F F F"\n'
    assert ValuePositions.of(line, canonical._NUMBER.split(line)) is None
    line = 'Properties=species:S:1:pos:R:3 a=1 b=2.5 pbc="F F F"\n'
    assert ValuePositions.of(line, canonical._NUMBER.split(line)) is not None


@pytest.mark.parametrize("expression", [
    "REF_energy < 0", "idx % 2 == 0 and big < -3e16", "tiny > 2e-323", "huge >= 1e17",
    "small * 1e7 < 6", "nil == 0 and zero == 0 and idx > 20", 'config_type == "bulk md"',
    "flag and idx < 9", 'uid == "105"', "REF_stress[2] > 0", "vector[1] > -5", "stress[0][1] > 0",
    "ratio in (2.5, 7.5)",
])
def test_filter_keeps_what_the_atoms_say(tmp_path, expression):
    """``wfl filter`` (values read from the comment line) keeps the frames that
    ``Expression.matches`` on the Atoms keeps."""
    assert_filter_keeps_what_the_atoms_say(tmp_path, _varied(12), expression)


def assert_filter_keeps_what_the_atoms_say(tmp_path, text: str, expression: str) -> None:
    """``wfl filter EXPRESSION`` of ``text`` writes the frames whose Atoms match (some,
    not all)."""
    source = tmp_path / "in.xyz"
    source.write_text(text)
    result = wfl_program("filter", expression, str(source), text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    atoms = list(FrameReader(io.BytesIO(text.encode()), "t.xyz"))
    test = Expression(expression)
    kept = [format_config(a) for a in atoms if test.matches(a)]
    assert 0 < len(kept) < len(atoms)
    assert result.stdout == "".join(kept)
