"""Deterministic randomness: a config's generator depends on --seed, the task and the
config's content, never on its position, the backend or the chunking.

Uses a small random task defined here (no verb draws random numbers yet), run through the
real executor core and its real serial and process-pool backends.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from helpers_data import rattled_cells
from wflcli.exec.backends import PoolBackend, SerialBackend
from wflcli.exec.contracts import TaskDefaults
from wflcli.exec.core import execute


@dataclass(frozen=True)
class Noise(TaskDefaults):
    seed: int
    verb = "noise"

    def parameters(self):
        return {"seed": self.seed}

    def start(self):
        def draw(atoms, context):
            atoms.info["noise"] = float(context.rng.normal())
            return [atoms]

        return draw


def noise_by_config(task, configs, backend, chunk):
    outcomes = list(execute(task, configs, backend, chunk))
    return {o.text.splitlines()[1].split("n=")[1].split()[0]: o.text.split("noise=")[1].split()[0]
            for o in outcomes}


@pytest.fixture(scope="module")
def configs():
    cells = rattled_cells(12, "Cu", (1, 1, 1))
    for i, atoms in enumerate(cells):
        atoms.info["n"] = i
    return cells


def test_backend_chunking_and_order_do_not_change_random_numbers(configs):
    task = Noise(seed=1)
    serial = noise_by_config(task, [a.copy() for a in configs], SerialBackend(), 1)
    pool = PoolBackend(2)
    try:
        chunked = noise_by_config(task, [a.copy() for a in configs], pool, 5)
        reordered = noise_by_config(task, [a.copy() for a in reversed(configs)], pool, 3)
    finally:
        pool.close()
    assert serial == chunked == reordered
    assert len(set(serial.values())) == len(configs)  # each config its own stream


def test_the_seed_changes_random_numbers(configs):
    first = noise_by_config(Noise(seed=1), [a.copy() for a in configs], SerialBackend(), 1)
    second = noise_by_config(Noise(seed=2), [a.copy() for a in configs], SerialBackend(), 1)
    assert all(first[k] != second[k] for k in first)


def test_random_numbers_do_not_follow_the_code(wfl, tmp_path):
    """Edited code is computed again (the cache key has its fingerprint), with the same
    random numbers: they come from --seed, the verb, its parameters and the config."""
    from wflcli.io.writer import format_config

    source = tmp_path / "ops.py"
    body = ("def jitter(atoms, rng):\n"
            "    with open(__file__ + '.calls', 'a') as calls:\n"
            "        calls.write('x')\n"
            "    atoms.info['r'] = float(rng.random())\n"
            "    return atoms\n")
    source.write_text("# first\n" + body)
    inputs = tmp_path / "in.xyz"
    inputs.write_text("".join(format_config(a) for a in rattled_cells(3, "Cu", (1, 1, 1))))
    first = wfl("map", f"{source}:jitter", inputs)
    source.write_text("# edited\n" + body)
    second = wfl("map", f"{source}:jitter", inputs)
    assert first.code == second.code == 0
    assert (tmp_path / "ops.py.calls").read_text() == "x" * 6  # computed twice
    assert second.stdout == first.stdout


def test_a_file_gives_the_same_numbers_wherever_it_lies(tmp_path, wfl):
    """A map function's random numbers follow its name and content, not its folder: a
    batch job runs a staged copy elsewhere, a project gets moved."""
    from helpers_data import read_text, write_configs

    write_configs(tmp_path / "in.xyz", rattled_cells(3, "Cu", (1, 1, 1)))
    outputs = []
    for folder in ("here", "moved/deeper"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "ops.py").write_text(
            "def jitter(atoms, rng):\n    atoms.info['r'] = float(rng.normal())\n"
            "    return atoms\n")
        done = wfl("--no-cache", "--seed", "7", "map", f"{tmp_path / folder}/ops.py:jitter",
                   tmp_path / "in.xyz")
        assert done.code == 0, done.stderr
        outputs.append([a.info["r"] for a in read_text(done.stdout)])
    assert outputs[0] == outputs[1] and len(set(outputs[0])) == 3
