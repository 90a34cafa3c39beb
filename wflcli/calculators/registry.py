"""The calculators ``--calc`` knows by name, and what each needs.

Each entry names an ASE calculator class by import path, so nothing is imported until a
spec is used; ``package``/``extra`` say what to install when the import fails.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class CalculatorKind:
    name: str
    target: str                    # "module:Class"
    summary: str
    package: str = "ase"           # what to pip install when the import fails
    extra: str = ""                # the wflcli extra that brings it
    fixed: dict = field(default_factory=dict)    # constructor arguments always given
    choices: dict = field(default_factory=dict)  # parameter -> {accepted text: value}
    positional: str = ""           # parameter a bare value sets (gap:GAP.xml)
    probe: bool = True             # build once when parsed (False: too costly to build twice)
    check: str = ""                # "module:function": checks and normalizes the parameters
    #                                when parsed, instead of building (probe=False)
    stem: str = ""                 # the default prefix stem, when not the name
    batches: bool = False          # has calculate_many(configs): many configs in one call
    batch_atoms: tuple = ()        # its default atoms per call: (on a CPU, on a GPU)


_TBLITE_METHODS = {"gfn2-xtb": "GFN2-xTB", "gfn2": "GFN2-xTB",
                   "gfn1-xtb": "GFN1-xTB", "gfn1": "GFN1-xTB",
                   "ipea1-xtb": "IPEA1-xTB", "ipea1": "IPEA1-xTB"}

KINDS = {kind.name: kind for kind in (
    CalculatorKind("emt", "ase.calculators.emt:EMT",
                   "ASE's effective medium theory for Al, Cu, Ag, Au, Ni, Pd, Pt (+ H, C, N, O)"),
    CalculatorKind("lj", "ase.calculators.lj:LennardJones",
                   "Lennard-Jones pair potential (sigma, epsilon, rc, ro, smooth)"),
    CalculatorKind("morse", "ase.calculators.morse:MorsePotential",
                   "Morse pair potential (epsilon, r0, rho0, rcut1, rcut2)"),
    CalculatorKind("tblite", "tblite.ase:TBLite",
                   "GFN2-xTB / GFN1-xTB tight binding (method=GFN2-xTB|GFN1-xTB, charge, "
                   "multiplicity, accuracy, electronic_temperature, ...)",
                   package="tblite", extra="xtb", fixed={"verbosity": 0},
                   choices={"method": _TBLITE_METHODS}),
    CalculatorKind("gap", "quippy.potential:Potential",
                   "a Gaussian Approximation Potential: gap:GAP.xml (quippy, loaded once "
                   "per worker)", package="quippy-ase", extra="gap",
                   fixed={"args_str": "IP GAP"}, positional="param_filename", probe=False,
                   check="wflcli.calculators.gap:checked_parameters"),
    CalculatorKind("mace", "wflcli.calculators.mace:MaceCalculator",
                   "a MACE model: mace:MODEL[,device=cpu|cuda|auto,dtype=float64|float32,"
                   "head=NAME] (mace-torch, loaded once per worker, batched in calc)",
                   package="mace-torch", extra="mace", positional="model", probe=False,
                   check="wflcli.calculators.mace:checked_parameters", stem="MACE",
                   batches=True, batch_atoms=(32, 4096)),
    *(CalculatorKind(name, target, summary, probe=False) for name, target, summary in (
        ("nwchem", "ase.calculators.nwchem:NWChem",
         "NWChem (theory, xc, basis, charge, dft.mult, ...)"),
        ("cp2k", "ase.calculators.cp2k:CP2K",
         "CP2K through cp2k_shell (xc, cutoff, basis_set, pseudo_potential, charge, ...)"),
        ("espresso", "ase.calculators.espresso:Espresso",
         "Quantum ESPRESSO pw.x (input_data={...}, pseudopotentials={...}, kpts)"),
        ("orca", "ase.calculators.orca:ORCA",
         "ORCA (orcasimpleinput, orcablocks, charge, mult)"),
        ("vasp", "ase.calculators.vasp:Vasp",
         "VASP (xc, encut, kpts, ...; vasp_gam for configs that are not periodic)"),
        ("castep", "ase.calculators.castep:Castep",
         "CASTEP (param.cut_off_energy, param.xc_functional, cell.kpoint_mp_grid, ...)"),
        ("aims", "ase.calculators.aims:Aims",
         "FHI-aims (xc, species_dir, k_grid, ...)"),
    )),
)}

PYTHON = "python"
PYTHON_SUMMARY = ("any ASE calculator: python:package.module:ClassName, "
                  "constructor arguments as key=value or --calc-kwargs JSON")
