"""``wfl md``: molecular dynamics from each input config, sampled every N steps.

Options may be overridden per config by ``info['wfl_md']`` (a dict of the same names), so
one run can sweep temperatures. A trajectory that reaches an abort condition (atoms too
close, too hot) ends there: its frames so far are kept and the offending frame carries
``info['wfl_error']``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from wflcli.calculators.spec import CalcSpec
from wflcli.exec.contracts import TaskDefaults
from wflcli.verbs.ensembles import ENSEMBLES, RAMPABLE
from wflcli.verbs.results import store_current_results

OVERRIDE_KEY = "wfl_md"


@dataclass(frozen=True)
class MDOptions:
    ensemble: str = "nve"
    steps: int = 1000
    timestep: float = 1.0                 # fs
    temperature: tuple | None = None      # (start K, end K); None: no thermostat target
    pressure: float | None = None         # GPa, NPT only
    friction: float = 0.01                # 1/fs, Langevin
    tau: float = 100.0                    # fs, thermostat time constant
    tau_p: float = 1000.0                 # fs, barostat time constant
    compressibility: float = 0.01         # 1/GPa, NPT Berendsen
    every: int = 10
    keep_velocities: bool = False
    min_distance: float | None = None     # A: abort when two atoms come closer
    max_temperature: float | None = None  # K: abort when hotter

    def check(self) -> MDOptions:
        """Consistent options, or ValueError saying what is wrong."""
        if self.ensemble not in ENSEMBLES:
            raise ValueError(f"ensemble {self.ensemble!r} is not one of {', '.join(ENSEMBLES)}")
        if self.ensemble != "nve" and self.temperature is None:
            raise ValueError(f"the {self.ensemble} ensemble needs a temperature")
        if self.ensemble.startswith("npt") and self.pressure is None:
            raise ValueError(f"the {self.ensemble} ensemble needs a pressure")
        if (self.temperature and self.temperature[0] != self.temperature[1]
                and self.ensemble not in RAMPABLE):
            raise ValueError(f"a temperature ramp needs one of {', '.join(RAMPABLE)}")
        if self.steps < 0 or self.every < 1 or self.timestep <= 0:
            raise ValueError("steps must be >= 0, every >= 1 and timestep > 0")
        return self

    def merged(self, overrides) -> MDOptions:
        """These options with a config's ``info['wfl_md']`` applied."""
        if not isinstance(overrides, dict):
            raise ValueError(f"info[{OVERRIDE_KEY!r}] must be a dict of md options")
        names = {f.name for f in dataclasses.fields(self)}
        unknown = set(overrides) - names
        if unknown:
            raise ValueError(f"info[{OVERRIDE_KEY!r}] has unknown options: {sorted(unknown)}")
        values = dict(overrides)
        if "temperature" in values:
            values["temperature"] = parse_temperature(values["temperature"])
        for name, value in values.items():
            _check_type(name, value, getattr(self, name))
        return dataclasses.replace(self, **values).check()


def _check_type(name: str, value, default) -> None:
    """An override from an input file has the option's own kind of value (a number where a
    number goes, a switch where a switch goes), or is refused."""
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if name == "temperature":  # parse_temperature has made it a pair of numbers or None
        return
    if name in ("min_distance", "max_temperature", "pressure"):
        ok, kind = value is None or number, "number"
    elif isinstance(default, bool):
        ok, kind = isinstance(value, bool), "switch (true or false)"
    elif isinstance(default, int):
        ok, kind = number and isinstance(value, int), "whole number"
    elif isinstance(default, float):
        ok, kind = number, "number"
    else:
        ok, kind = isinstance(value, str), "text"
    if not ok:
        raise ValueError(f"info[{OVERRIDE_KEY!r}]: {name}={value!r} is not a {kind}")


def parse_temperature(value) -> tuple | None:
    """300, "300" or "300:1000" (a linear ramp over the run) -> (start, end)."""
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return (float(value), float(value))
    start, _, end = str(value).partition(":")
    return (float(start), float(end or start))


class Abort(Exception):
    """A trajectory reached an abort condition."""


@dataclass(frozen=True)
class MDTask(TaskDefaults):
    calc: CalcSpec
    prefix: str
    options: MDOptions
    seed: int = 0

    verb = "md"
    records_index = True  # frames carry MD_source, the input position

    def parameters(self) -> dict:
        return {"calc": self.calc.fingerprint, "prefix": self.prefix, "seed": self.seed,
                "options": dataclasses.asdict(self.options)}

    def start(self):
        calculator = self.calc.build()

        def run(atoms, context):
            options = self.options
            if OVERRIDE_KEY in atoms.info:
                options = options.merged(atoms.info[OVERRIDE_KEY])
            calculator.reset()
            atoms.calc = calculator
            return trajectory(atoms, options, self.prefix, context)

        return run


def trajectory(atoms, options: MDOptions, prefix: str, context) -> list:
    from ase.md import velocitydistribution

    if not (options.keep_velocities and atoms.has("momenta")):
        if options.temperature:
            # thermalize_momenta is ASE >= 3.29's name for MaxwellBoltzmannDistribution
            thermalize = getattr(velocitydistribution, "thermalize_momenta",
                                 velocitydistribution.MaxwellBoltzmannDistribution)
            thermalize(atoms, temperature_K=options.temperature[0], rng=context.rng)
            velocitydistribution.Stationary(atoms)
        else:
            atoms.set_momenta(np.zeros((len(atoms), 3)))
    dynamics = _integrator(atoms, options, context.rng)
    frames: list = []

    def observe() -> None:
        step = dynamics.nsteps
        context.step()
        if options.temperature and options.ensemble in RAMPABLE and options.steps:
            start, end = options.temperature
            dynamics.set_temperature(temperature_K=start + (end - start) * step / options.steps)
        temperature = atoms.get_temperature()
        hot = options.max_temperature is not None and temperature > options.max_temperature
        if step % options.every == 0 or step == options.steps or hot:
            frames.append(_frame(atoms, step, options, prefix, context.index, temperature))
            _check(frames[-1], options, temperature)

    dynamics.attach(observe, interval=1)
    try:
        dynamics.run(options.steps)
    except Abort as exc:
        from wflcli.exec.task import mark_failed

        mark_failed(frames[-1], "md", exc, where=f"MD step {frames[-1].info['MD_step']}")
    atoms.calc = None
    return frames


def _frame(atoms, step: int, options: MDOptions, prefix: str, index: int, temperature):
    frame = atoms.copy()
    frame.calc = None
    store_current_results(frame, atoms.calc, prefix)
    frame.info["MD_step"] = step
    frame.info["MD_time_fs"] = step * options.timestep
    frame.info["MD_temperature_K"] = float(temperature)
    frame.info["MD_source"] = index
    return frame


def _check(frame, options: MDOptions, temperature: float) -> None:
    if options.max_temperature is not None and temperature > options.max_temperature:
        raise Abort(f"temperature {temperature:.1f} K is above --max-temperature "
                    f"{options.max_temperature} K")
    if options.min_distance is not None and len(frame) > 1:
        from ase.neighborlist import neighbor_list

        distances = neighbor_list("d", frame, options.min_distance)
        if len(distances):
            raise Abort(f"two atoms are {distances.min():.3f} A apart, closer than "
                        f"--min-distance {options.min_distance} A")


def _integrator(atoms, options: MDOptions, rng):
    from ase import units

    dt = options.timestep * units.fs
    temperature = options.temperature[0] if options.temperature else None
    tau = options.tau * units.fs
    ensemble = options.ensemble
    if ensemble == "nve":
        from ase.md.verlet import VelocityVerlet

        return VelocityVerlet(atoms, dt)
    if ensemble == "langevin":
        from ase.md.langevin import Langevin

        return Langevin(atoms, dt, temperature_K=temperature,
                        friction=options.friction / units.fs, fixcm=False, rng=rng)
    if ensemble == "berendsen":
        from ase.md.nvtberendsen import NVTBerendsen

        return NVTBerendsen(atoms, dt, temperature_K=temperature, taut=tau)
    if ensemble == "bussi":
        from ase.md.bussi import Bussi

        return Bussi(atoms, dt, temperature_K=temperature, taut=tau, rng=rng)
    if ensemble == "nose-hoover":
        from ase.md.nose_hoover_chain import NoseHooverChainNVT

        return NoseHooverChainNVT(atoms, dt, temperature_K=temperature, tdamp=tau)
    pressure = options.pressure * units.GPa
    if ensemble == "npt-berendsen":
        from ase.md.nptberendsen import NPTBerendsen

        return NPTBerendsen(atoms, dt, temperature_K=temperature, pressure_au=pressure,
                            taut=tau, taup=options.tau_p * units.fs,
                            compressibility_au=options.compressibility / units.GPa)
    from ase.md.nose_hoover_chain import IsotropicMTKNPT

    return IsotropicMTKNPT(atoms, dt, temperature_K=temperature, pressure_au=pressure,
                           tdamp=tau, pdamp=options.tau_p * units.fs)
