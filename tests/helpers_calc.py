"""Calculators for tests, importable by ``wfl`` subprocesses as ``python:helpers_calc:...``
(the tests put this folder on PYTHONPATH)."""

import json
import os
import time

from ase.calculators.emt import EMT


class CountingEMT(EMT):
    """EMT that appends a line (process id, CUDA_VISIBLE_DEVICES) to $CALC_LOG for every
    calculation, and can be slowed down with $CALC_SLEEP seconds, so tests can count work,
    see which GPU a worker was given, and interrupt it midway."""

    def calculate(self, *args, **kwargs):
        time.sleep(float(os.environ.get("CALC_SLEEP", "0")))
        super().calculate(*args, **kwargs)
        log = os.environ.get("CALC_LOG")
        if log:
            fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            device = os.environ.get("CUDA_VISIBLE_DEVICES", "-")  # which GPU it was given
            os.write(fd, f"{os.getpid()} {device}\n".encode())
            os.close(fd)


class ScaledEMT(CountingEMT):
    """EMT energies scaled by a factor read from a JSON parameter file: a stand-in for a
    calculator that loads a model file."""

    def __init__(self, model=None, **kwargs):
        super().__init__(**kwargs)
        with open(model) as stream:
            self.scale = json.load(stream)["scale"]

    def calculate(self, *args, **kwargs):
        super().calculate(*args, **kwargs)
        self.results["energy"] *= self.scale


class BuildLoggingEMT(EMT):
    """EMT that appends "pid label" to $BUILD_LOG each time one is constructed, so tests
    can count how often a worker loads a model."""

    def __init__(self, label="", **kwargs):
        super().__init__(**kwargs)
        log = os.environ.get("BUILD_LOG")
        if log:
            fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            os.write(fd, f"{os.getpid()} {label}\n".encode())
            os.close(fd)
