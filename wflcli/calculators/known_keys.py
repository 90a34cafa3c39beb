"""The parameters each file-based code's ASE calculator understands, for the codes whose
calculator class does not list them (``default_parameters`` is empty for all but CP2K).

ASE's NWChem writer turns any key it does not know into an input block of that name, so a
misspelt ``thoery=scf`` would silently become a block NWChem rejects or ignores; these
lists make it a usage error before anything runs. FHI-aims takes any of its hundreds of
control.in keywords and is not checked here (aims itself stops at an unknown one).
"""

from __future__ import annotations

# written by ASE's NWChem writer itself, or NWChem modules and directives it writes as blocks
_NWCHEM = (
    "autosym", "autoz", "basis", "basispar", "bandpath", "center", "charge", "echo", "geompar",
    "kpts", "label", "memory", "perm", "pretasks", "restart_kw", "scratch", "set", "symmetry",
    "task", "theory", "xc",
    "band", "bq", "ccsd", "constraints", "cosmo", "dft", "dplot", "driver", "ecp", "esp",
    "freq", "hessian", "mp2", "noprint", "nwpw", "paw", "print", "property", "pspw", "python",
    "relativistic", "rimp2", "scf", "so", "stepper", "tce", "tddft", "unset", "vib",
)
_ESPRESSO_ARGUMENTS = ("input_data", "pseudopotentials", "kspacing", "kpts", "koffset",
                       "crystal_coordinates", "additional_cards")
_ORCA = ("charge", "mult", "orcasimpleinput", "orcablocks")
_CASTEP = ("param", "cell", "kpts", "castep_pp_path", "find_pspots", "label",
           "check_castep_version", "keyword_tolerance", "castep_keywords")


def known_keys(code: str) -> frozenset:
    """The top-level parameter names of a code's calculator (empty: not checked)."""
    if code == "nwchem":
        return frozenset(_NWCHEM)
    if code == "espresso":
        from ase.io.espresso_namelist.keys import ALL_KEYS

        sections = ALL_KEYS["pw"]
        return frozenset((*_ESPRESSO_ARGUMENTS, *sections,
                          *(key for keys in sections.values() for key in keys)))
    if code == "orca":
        return frozenset(_ORCA)
    if code == "vasp":
        from ase.calculators.vasp import create_input as vasp

        lists = [getattr(vasp, name) for name in dir(vasp) if name.endswith("_keys")]
        return frozenset([key for keys in lists for key in keys]
                         + list(vasp.GenerateVaspInput().input_params))
    if code == "castep":
        return frozenset(_CASTEP)
    return frozenset()
