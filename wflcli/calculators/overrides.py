"""Per-config calculator parameters (``info['wfl_calc']``) come from an input file, and an
input file is data: it must never become code, nor code-level input of a program we run.

ASE's writers put parameters into a code's input text (NWChem turns any unknown key into a
block, and a ``python`` block runs Python; ``;`` separates NWChem directives on one line),
so a per-config table may only set the keys the run allows (``allowed_overrides``),
each to a plain value: a number, a switch, a short word-like text, or a list of numbers.
For a file-based code only keys its writer puts on a line as one value can be allowed,
never an input block, a task, a file or a command.
"""

from __future__ import annotations

import math
import re

from wflcli.calculators.spec import CalcSpec
from wflcli.calculators.spec_error import ALLOWED, CONFIG, CalcSpecError

# no line breaks, no control characters, none of the characters that start a comment,
# a section, a variable, a string, a new directive or a card in the codes' input languages
# (; # ! & @ $ % ' " / , = { } [ ] < > \)
PLAIN_TEXT = re.compile(r"[A-Za-z0-9_.*+\-() ]{0,100}")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_MAX_LIST = 16

_ESPRESSO_SYSTEM = ("tot_charge", "nspin", "tot_magnetization", "ecutwfc", "ecutrho",
                    "occupations", "smearing", "degauss")
_ESPRESSO_ELECTRONS = ("conv_thr", "mixing_beta")

# per file-based code: the parameters whose value ASE writes as one plain value on a line
OVERRIDABLE = {
    "nwchem": ("charge", "xc", "basis", "dft.mult", "dft.xc", "dft.smear", "dft.iterations",
               "scf.nopen", "scf.maxiter"),
    "cp2k": ("charge", "multiplicity", "uks", "cutoff", "max_scf", "xc", "basis_set",
             "pseudo_potential"),
    "espresso": ("kpts", "koffset", "kspacing", *_ESPRESSO_SYSTEM, *_ESPRESSO_ELECTRONS,
                 *(f"input_data.system.{key}" for key in _ESPRESSO_SYSTEM),
                 *(f"input_data.electrons.{key}" for key in _ESPRESSO_ELECTRONS)),
    "orca": ("charge", "mult"),
    "vasp": ("kpts", "gamma", "kspacing", "encut", "ismear", "sigma", "ispin", "nupdown",
             "nelect", "ediff", "ediffg", "nelm"),
    "castep": ("kpts", "param.cut_off_energy", "param.charge", "param.spin",
               "param.spin_polarized", "param.smearing_width", "param.elec_energy_tol",
               "cell.kpoint_mp_grid", "cell.kpoint_mp_spacing"),
    "aims": ("charge", "spin", "default_initial_moment", "k_grid", "kpts", "xc",
             "sc_accuracy_rho", "occupation_type"),
}
# never from data, whatever the calculator: where it runs, what it runs, what it loads
NEVER = frozenset(("command", "directory", "profile", "label", "txt", "restart", "args_str",
                   "param_filename", "calc_args", "init_args"))

# per-atom text arrays that a code's writer copies into its input
_TEXT_ARRAYS = {"castep": ("castep_custom_species", "castep_labels")}
_TOKEN = re.compile(r"[A-Za-z0-9_:.+\-]{1,32}")


def allowed_overrides(spec: CalcSpec, text: str | None) -> tuple[str, ...]:
    """``charge,dft.mult``: the keys ``info['wfl_calc']`` may set; a key that can never be
    set from data is a usage error (ALLOWED)."""
    keys = tuple(sorted({key.strip() for key in (text or "").split(",") if key.strip()}))
    for key in keys:
        if not all(_NAME.fullmatch(part) for part in key.split(".")):
            raise CalcSpecError(ALLOWED, f"{key!r} is not a parameter name")
        if spec.name in OVERRIDABLE:
            if key not in OVERRIDABLE[spec.name]:
                raise CalcSpecError(
                    ALLOWED, f"{spec.name} cannot take {key!r} from an input file (input "
                    f"blocks, tasks, files and commands never can); it can take: "
                    f"{', '.join(OVERRIDABLE[spec.name])}")
        elif key.split(".")[0] in NEVER:
            raise CalcSpecError(ALLOWED, f"{key!r} names a file, a command or a folder: "
                                "never taken from an input file")
    return keys


def checked_overrides(overrides: dict, allowed: tuple[str, ...]) -> dict:
    """The per-config table if every key in it is allowed and every value plain; else a
    CONFIG fact saying which key or value (a key not ``allowed``: ALLOWED)."""
    for path, value in _leaves(overrides, ""):
        if path not in allowed:
            raise CalcSpecError(ALLOWED, f"sets {path!r}, which this run does not allow "
                                "per config", joint=" ")
        problem = _not_plain(value)
        if problem:
            raise CalcSpecError(CONFIG, f"{path}={value!r}: {problem}")
    return overrides


def check_config_text(code: str, atoms) -> None:
    """Per-atom text that a code's writer copies into its input must be a plain token."""
    for name in _TEXT_ARRAYS.get(code, ()):
        if name in atoms.arrays:
            for value in atoms.arrays[name]:
                if not _TOKEN.fullmatch(str(value)):
                    raise ValueError(f"arrays[{name!r}] value {str(value)!r} is not a plain "
                                     f"label (letters, digits, _ : . + -): {code} would copy "
                                     "it into its input")


def _leaves(table: dict, above: str):
    for key, value in table.items():
        if not isinstance(key, str) or not _NAME.fullmatch(key):
            raise CalcSpecError(CONFIG, f"{key!r} is not a parameter name")
        path = f"{above}.{key}" if above else key
        if isinstance(value, dict):  # a nested table: each of its keys on its own
            yield from _leaves(value, path)
        else:
            yield path, value


def _not_plain(value) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return None if math.isfinite(value) else "not a finite number"
    if isinstance(value, str):
        return None if PLAIN_TEXT.fullmatch(value) else (
            "text from an input file may hold only letters, digits, spaces and _ . * + - ( ) "
            "(at most 100 characters): no line breaks or input-language characters")
    if isinstance(value, (list, tuple)):
        if len(value) <= _MAX_LIST and all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                for v in value):
            return None
        return f"a list from an input file may hold only numbers (at most {_MAX_LIST})"
    return f"a {type(value).__name__} is not a plain value"
