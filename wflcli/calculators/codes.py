"""Electronic-structure codes that ASE drives through files: how each one is started,
where it finds its data, and which of its files are worth keeping.

The command of a code comes from ``WFL_<NAME>_COMMAND`` (e.g. ``WFL_VASP_COMMAND="srun
vasp_std"``), else its usual executable name; ``{threads}`` in it is replaced by the threads
each calculation gets, ``{nodes}`` by the nodes of a multi-node job (``--nodes``; else 1) and
``{cores}`` by the cores the calculation has on all of them (the job's ``WFL_CORES``; else
its threads), as in ``WFL_VASP_COMMAND="srun -n {cores} vasp_std"``. Pseudopotential and
basis folders come from the variables the codes and ASE already use (``ESPRESSO_PSEUDO``,
``VASP_PP_PATH``, ...). On a cluster, the ``env`` table of a system in the systems config
sets them for every job.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class RunSetup:
    """What one calculation needs besides its parameters."""

    command: str
    threads: int
    periodic: bool
    folder: str


@dataclass(frozen=True)
class FileCode:
    name: str
    executable: str            # the default command
    keep: tuple                # file patterns kept with --keep-files outputs
    log: str                   # the code's own output, tailed when a run fails
    configure: Callable        # (parameters, RunSetup) -> constructor arguments
    data_variables: tuple = ()  # where pseudopotentials / basis sets are looked up
    gamma_executable: str = ""  # used for configs that are not periodic
    short_paths: bool = False   # give it a short alias of its folder
    boxed: bool = False         # periodic codes only: a molecule runs in its cell as a box
    finish: Callable | None = None  # (calculator, parameters): settings made after building

    @property
    def command_variable(self) -> str:
        return f"WFL_{self.name.upper()}_COMMAND"

    @property
    def gamma_variable(self) -> str:
        return f"WFL_{self.name.upper()}_GAMMA_COMMAND"

    def missing_program(self, command: str) -> str | None:
        """A message when the command's program is not there (None when it is)."""
        import shlex
        import shutil

        try:
            words = shlex.split(command)
        except ValueError as exc:
            return f"--calc {self.name}: {command!r} is not a command line ({exc})"
        if words and shutil.which(words[0]):
            return None
        return (f"--calc {self.name}: {words[0] if words else command!r} is not found; "
                f"install {self.name} or set {self.command_variable} to its command")

    @property
    def settings_summary(self) -> str:
        """Which environment variables it reads, for ``--list-calcs``."""
        names = [f"{self.command_variable} (default {self.executable})"]
        if self.gamma_executable:
            names.append(f"{self.gamma_variable} (default {self.gamma_executable})")
        return ", ".join(names + list(self.data_variables))

    def as_run(self, atoms):
        """The config as the code is given it: a periodic-only code sees a molecule's cell
        as a periodic box (results are per atom in the same order)."""
        if not self.boxed or atoms.pbc.all():
            return atoms
        if atoms.cell.rank < 3:
            raise ValueError(f"{self.name} needs a cell: put the molecule in a box "
                             "(e.g. ase.Atoms.center(vacuum=...)) first")
        boxed = atoms.copy()
        boxed.pbc = True
        return boxed

    def command(self, periodic: bool, threads: int, environ=os.environ) -> str:
        if self.gamma_executable and not periodic:
            text = environ.get(self.gamma_variable) or self.gamma_executable
        else:
            text = environ.get(self.command_variable) or self.executable
        nodes = environ.get("WFL_NODES") or "1"  # exported by a multi-node job's script
        cores = environ.get("WFL_CORES") or str(threads)
        return text.replace("{threads}", str(threads)).replace("{nodes}", nodes) \
            .replace("{cores}", cores)


def _nwchem(params: dict, run: RunSetup) -> dict:
    if any(char.isspace() for char in run.folder):  # its input has no quoting for paths
        raise ValueError(f"NWChem cannot run in a folder whose path has white space "
                         f"({run.folder!r}): choose another --scratch")
    return {**params, "command": f"{run.command} PREFIX.nwi > PREFIX.nwo"}


def _cp2k(params: dict, run: RunSetup) -> dict:
    return {**params, "command": run.command}


def _espresso(params: dict, run: RunSetup) -> dict:
    from ase.calculators.espresso import EspressoProfile

    pseudo = os.environ.get("ESPRESSO_PSEUDO", os.path.expanduser("~/espresso/pseudo"))
    params = dict(params)
    if not run.periodic:  # a molecule: Gamma only, with pw.x's Gamma-point tricks
        params.pop("kspacing", None)
        params["kpts"] = None
    given = dict(params.get("input_data") or {})
    control = given.get("control") or {}
    for key, wanted in (("tprnfor", True), ("tstress", run.periodic)):  # pw.x prints
        if key not in given and key not in control:                   # them when asked
            given[key] = wanted
    params["input_data"] = given
    return {**params, "profile": EspressoProfile(run.command, pseudo)}


def _orca(params: dict, run: RunSetup) -> dict:
    from ase.calculators.orca import OrcaProfile

    params = dict(params)
    simple = params.get("orcasimpleinput", "B3LYP def2-TZVP")
    if "engrad" not in simple.lower():  # forces are written only when asked for
        params["orcasimpleinput"] = f"{simple} EnGrad"
    blocks = params.get("orcablocks", "")
    if run.threads > 1 and "%pal" not in blocks.lower():
        params["orcablocks"] = f"%pal nprocs {run.threads} end\n{blocks}".strip()
    return {**params, "profile": OrcaProfile(run.command)}


def _vasp(params: dict, run: RunSetup) -> dict:
    params = dict(params)
    if not run.periodic:  # the Gamma-only build wants exactly the Gamma point
        params.pop("kspacing", None)
        params.update(kpts=(1, 1, 1), gamma=True)
    return {**params, "command": run.command}


_CASTEP_FILES = ("param", "cell")


def _castep(params: dict, run: RunSetup) -> dict:
    # keyword_tolerance 3: ASE would otherwise run CASTEP once, in the working folder, to
    # list its keywords before the first calculation
    params = {key: value for key, value in params.items() if key not in _CASTEP_FILES}
    return {"castep_pp_path": os.environ.get("CASTEP_PP_PATH"), "keyword_tolerance": 3,
            **params, "castep_command": run.command}


def _castep_keywords(calculator, params: dict) -> None:
    """``param.cut_off_energy=300``, ``cell.kpoint_mp_grid=4 4 4``: keywords set on the
    file they belong to, which ASE writes whether or not it knows them (without CASTEP's
    keyword list, keywords given at the top level are dropped with a warning)."""
    for name in _CASTEP_FILES:
        table = params.get(name) or {}
        if not isinstance(table, dict):
            raise ValueError(f"castep: {name} must be a table of {name} keywords")
        for key, value in table.items():
            setattr(getattr(calculator, name), key.lower(), value)


def _aims(params: dict, run: RunSetup) -> dict:
    from ase.calculators.aims import AimsProfile

    if not run.periodic:  # a molecule has no k-points: the same settings serve both
        params = {key: value for key, value in params.items() if key not in ("k_grid", "kpts")}
    return {**params, "profile": AimsProfile(run.command, os.environ.get("AIMS_SPECIES_DIR"))}


CODES = {code.name: code for code in (
    FileCode("nwchem", "nwchem", ("*.nwi", "*.nwo"), "nwchem.nwo", _nwchem),
    FileCode("cp2k", "cp2k_shell", ("*.inp", "*.out"), "cp2k.out", _cp2k,
             ("CP2K_DATA_DIR",), short_paths=True),
    FileCode("espresso", "pw.x", ("*.pwi", "*.pwo", "*.err"), "espresso.pwo", _espresso,
             ("ESPRESSO_PSEUDO",)),
    FileCode("orca", "orca", ("*.inp", "*.out", "*.err", "*.engrad"), "orca.out", _orca),
    FileCode("vasp", "vasp_std", ("INCAR", "KPOINTS", "POSCAR", "OUTCAR", "OSZICAR",
                                  "vasprun.xml", "vasp.out"), "vasp.out", _vasp,
             ("VASP_PP_PATH",), gamma_executable="vasp_gam", boxed=True),
    FileCode("castep", "castep.serial", ("*.cell", "*.param", "*.castep"), "castep.castep",
             _castep, ("CASTEP_PP_PATH",), finish=_castep_keywords),
    FileCode("aims", "aims.x", ("control.in", "geometry.in", "aims.out"), "aims.out", _aims,
             ("AIMS_SPECIES_DIR",)),
)}
