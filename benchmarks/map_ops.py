"""The user functions of the ``wfl map`` scenarios (given to ``wfl map`` by file path)."""


def tag(atoms):
    """Trivial: one info key added."""
    atoms.info["tagged"] = 1
    return atoms


def busy(atoms, rounds=500):
    """CPU-bound, pure Python: inverse-square pair sums, repeated (about 3 ms of CPU per config)."""
    positions = atoms.positions.tolist()
    total = 0.0
    for _ in range(rounds):
        for i, a in enumerate(positions):
            for b in positions[:i]:
                total += 1.0 / ((a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2 + (a[2] - b[2]) ** 2)
    atoms.info["busy"] = total
    return atoms
