"""Frames passed on as text (``wfl cat``, ``head``, ``filter``, ``info``; read_frames):
always exactly what formatting the Atoms gives, and the input itself where it already is."""

from __future__ import annotations

import io
import os
import select
import subprocess
import time

import numpy as np
import pytest
from ase.build import bulk, molecule
from ase.constraints import FixAtoms
from test_io_malformed import CASES

from wflcli.io import canonical
from wflcli.io.reader import FrameReader
from wflcli.io.writer import format_config
from helpers_wfl import PROGRAM


def _rich_frames() -> list[str]:
    """Frames written by wfl: cells, arrays of each type, info of each type, -0.0, tiny and
    huge floats, text with spaces and quotes."""
    cu = bulk("Cu", "fcc", a=3.61, cubic=True)
    cu.rattle(0.05, seed=1)
    cu.info.update(REF_energy=-1.25, REF_stress=np.array([0.1, -0.0, 1e-05, 2.5e16, 3.0, 7.0]),
                   config_type="bulk md", idx=3, flag=True, label='say "hi"', big=12345678901,
                   tiny=5e-324, vector=np.array([1, 2, 3]), name="α-phase")
    cu.arrays["REF_forces"] = np.random.default_rng(0).normal(size=(4, 3))
    cu.arrays["tag_int"] = np.array([0, -3, 7, 12])
    cu.arrays["is_core"] = np.array([True, False, True, True])
    cu.arrays["kind"] = np.array(["a", "b", "c", "d"])
    water = molecule("H2O")
    slab = bulk("Al", "fcc", a=4.05) * (2, 1, 1)
    slab.pbc = [True, True, False]
    slab.cell[2] = 0.0
    slab.info["step"] = 0
    return [format_config(a) for a in (cu, water, slab)]


OTHER_WRITERS = [  # same values, not the written form: formatted as before
    '1\nProperties=species:S:1:pos:R:3 pbc="F F F"\nH 0.10000000000000001 0.0 0.0\n',
    '1\nProperties=species:S:1:pos:R:3 pbc="F F F"\nH  0.1 0.0 0.0\n',
    '1\nProperties=species:S:1:pos:R:3 pbc="F F F"\r\nH 0.1 0.0 0.0\r\n',
    '1\nProperties=species:S:1:pos:R:3 pbc="F F F"\nh 0.1 0.0 0.0\n',
    '1\nProperties=species:S:1:pos:R:3 pbc="F F F"\nH 1e-5 0.0 0.0\n',
    '1\nProperties=species:S:1:pos:R:3 pbc="F F F"\nH 0.1\t0.0 0.0\n',
    '1\nProperties=species:S:1:pos:R:3 pbc="F F F"\nH 1 0 0\n',
    '1\nProperties=species:S:1:pos:R:3 pbc="F F F" x=1.50\nH 0.1 0.0 0.0\n',
    '1\nProperties=species:S:1:pos:R:3 pbc="F F F" x=007\nH 0.1 0.0 0.0\n',
    '1\nProperties=species:S:1:pos:R:3 pbc="F F F" x=-0\nH 0.1 0.0 0.0\n',
    '1\nProperties=Z:I:1:pos:R:3 pbc="F F F"\n1 0.1 0.0 0.0\n',
    '1\nProperties=species:S:1:pos:R:3:n:I:1 pbc="F F F"\nH 0.1 0.0 0.0 +4\n',
    '1\nProperties=species:S:1:pos:R:3:m:L:1 pbc="F F F"\nH 0.1 0.0 0.0 True\n',
    '1\nProperties=species:S:1:pos:R:3:move_mask:L:1 pbc="F F F"\nH 0.1 0.0 0.0 T\n',
    ('1\nLattice="0.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0" Properties=species:S:1:pos:R:3 '
     'pbc="F F F"\nH 0.1 0.0 0.0\n'),
    '1\npbc="F F F" Properties=species:S:1:pos:R:3\nH 0.1 0.0 0.0\n',
    '1\nx=1\nH 0.1 0.0 0.0\n',
    ('2\nProperties=species:S:1:pos:R:3 stress="1.0 2.0 3.0 4.0 5.0 6.0 7.0 8.0 9.0" '
     'pbc="F F F"\nH 0.0 0.0 0.0\nH 0.0 0.0 0.74\n'),
    '1\nProperties=species:S:1:pos:R:3 pbc="F F F"\nH 0.1 0.0 0.0',  # no line end at the end
]


def _frames(text: str) -> list:
    return list(FrameReader(io.BytesIO(text.encode()), "t.xyz").frames())


def test_written_frames_are_passed_on_as_they_are_without_formatting(monkeypatch):
    monkeypatch.setattr(canonical, "_shapes", {})
    text = "".join(_rich_frames() * 3)
    frames = _frames(text)
    assert "".join(f.text for f in frames) == text
    later = frames[3:]  # each shape was judged on its first frame; these only checked
    assert all(f._atoms is None for f in later)


@pytest.mark.parametrize("text", OTHER_WRITERS + _rich_frames())
def test_text_is_always_what_formatting_the_atoms_gives(text):
    for _ in range(2):  # the first of a shape is judged, the second only checked
        for frame in _frames(text):
            atoms = next(iter(FrameReader(io.BytesIO(text.encode()), "t.xyz")))
            assert frame.text == format_config(atoms)


def test_same_shape_with_other_numbers_is_judged_on_its_numbers():
    """A shape judged written-as-is does not let through a frame whose numbers are not in
    written form, nor one whose zero cell the writer would leave out."""
    good = '1\nLattice="2.0 0.0 0.0 0.0 2.0 0.0 0.0 0.0 2.0" Properties=species:S:1:pos:R:3 ' \
           'e=1.5 pbc="F F F"\nH 0.1 0.0 0.0\n'
    assert _frames(good)[0].text == good
    for variant in (good.replace("e=1.5", "e=1.50"), good.replace("e=1.5", "e=1e-5"),
                    good.replace("2.0", "0.0"), good.replace("H 0.1", "H 0.10000000000000001")):
        frame = _frames(variant)[0]
        atoms = next(iter(FrameReader(io.BytesIO(variant.encode()), "t.xyz")))
        assert frame.text == format_config(atoms) != variant


def test_fixed_atoms_keep_their_written_form():
    atoms = molecule("H2O")
    atoms.set_constraint(FixAtoms([0]))
    text = format_config(atoms)
    assert "".join(f.text for f in _frames(text * 2)) == text * 2


def test_shapes_are_forgotten_beyond_a_bound(monkeypatch):
    monkeypatch.setattr(canonical, "_MAX_SHAPES", 2)
    texts = [f'1\nProperties=species:S:1:pos:R:3 k{i}=1.5 pbc="F F F"\nH 0.1 0.0 0.0\n'
             for i in range(5)]
    assert "".join(f.text for f in _frames("".join(texts))) == "".join(texts)
    assert len(canonical._shapes) <= 3


@pytest.mark.parametrize("verb", [["cat"], ["head", "-n", "100"], ["filter", "natoms > 0"],
                                  ["info", "-k", "natoms"]])
@pytest.mark.parametrize("case,content,line,words", [c for c in CASES if c[2]],
                         ids=[c[0] for c in CASES if c[2]])
def test_malformed_input_refused_by_passing_verbs(wfl, tmp_path, verb, case, content, line,
                                                  words):
    src = tmp_path / "bad.xyz"
    before = _rich_frames()[0] * 2  # the shapes judged first, then the bad frame checked
    src.write_bytes(before.encode() + content)
    result = wfl(*verb, src)
    assert result.code == 1
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert f"{src}:{line + before.count(chr(10))}:" in result.stderr, result.stderr
    assert words in result.stderr, result.stderr


@pytest.mark.parametrize("verb", [["cat"], ["head", "-n", "5"], ["filter", "natoms > 1"]])
def test_passing_verbs_write_what_formatting_gives(wfl, tmp_path, verb):
    text = "".join(_rich_frames() + OTHER_WRITERS[:-1])
    src = tmp_path / "in.xyz"
    src.write_text(text)
    result = wfl(*verb, src)
    assert result.code == 0, result.stderr
    configs = list(FrameReader(io.BytesIO(text.encode()), "in.xyz"))
    if verb[0] == "head":
        configs = configs[:5]
    if verb[0] == "filter":
        configs = [a for a in configs if len(a) > 1]
    assert result.stdout == "".join(format_config(a) for a in configs)


def test_filter_on_info_keys_makes_no_atoms(monkeypatch):
    from wflcli.verbs.expression import Expression
    from wflcli.verbs.filter import Tally, judged

    monkeypatch.setattr(canonical, "_shapes", {})
    cu, water, slab = _rich_frames()
    frames = _frames(cu * 3 + water)
    kept = [keep for _, _, keep in judged(frames, Expression("idx == 3 and natoms == 4"),
                                          False, Tally())]
    assert kept == [True, True, True, False]
    assert [f._atoms is None for f in frames] == [False, True, True, False]  # judged, missing
    frames = _frames(cu + water + slab)
    kept = [k for _, _, k in judged(frames, Expression("volume > 40"), False, Tally())]
    assert kept == [True, False, False]  # the water has no cell, the slab is 2D


@pytest.mark.parametrize("verb", [["cat"], ["head", "-n", "3"], ["filter", "natoms > 0"]])
def test_passing_verbs_stream_each_frame_at_once(verb):
    """A slow producer: each frame comes out while the input is still open (no block
    buffering of the output, no read-ahead on a pipe)."""
    cu = _rich_frames()[0].encode()
    proc = subprocess.Popen([PROGRAM, *verb], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        for _ in range(2):
            proc.stdin.write(cu)
            proc.stdin.flush()
            assert _read_for(proc.stdout, len(cu), 60) == cu  # while stdin is still open
        proc.stdin.close()
        assert proc.stdout.read() == b""
        assert proc.wait(timeout=60) == 0
    finally:
        proc.kill()


def _read_for(stream, size: int, seconds: float) -> bytes:
    """Up to ``size`` bytes of a pipe, as many as came within ``seconds``."""
    got, deadline = b"", time.monotonic() + seconds
    while len(got) < size and select.select([stream], [], [], deadline - time.monotonic())[0]:
        chunk = os.read(stream.fileno(), size - len(got))
        if not chunk:
            break
        got += chunk
    return got
