"""``wfl calc``: the command line of the single-point verb."""

from __future__ import annotations

import os

import click

from wflcli.calculators.registry import KINDS
from wflcli.calculators.scratch import KEEP_CHOICES
from wflcli.cli.options import calc_flags, calc_options, deferred_calculator, spec_first
from wflcli.cli.perconfig import config_io, run_per_config
from wflcli.errors import ExitStatus

BATCH_CHUNK = 64  # configs per chunk when batched, unless --chunk says otherwise


@click.command()
@calc_options(required=False, results="result keys")
@click.option("--properties", metavar="LIST",
              help="Comma-separated properties [default: energy,forces,stress where the "
                   "calculator has them; stress only for periodic cells].")
@click.option("--scratch", metavar="DIR", type=click.Path(file_okay=False),
              help="File-based codes: run each config in a new folder under DIR "
                   "[default: OUTPUT-files beside -o, else ./wfl-calc-files].")
@click.option("--keep-files",
              type=click.Choice(KEEP_CHOICES, case_sensitive=False), default="outputs",
              show_default=True,
              help="File-based codes: what stays in a config's folder after a successful "
                   "run (outputs: the code's input and output files). A failed run keeps "
                   "everything.")
@click.option("--threads", type=click.IntRange(min=1),
              help="File-based codes: threads per calculation ({threads} in "
                   "WFL_<CODE>_COMMAND, OMP_NUM_THREADS) [default: this machine's or "
                   "job's cores / --parallel].")
@click.option("--overrides", metavar="KEYS",
              help="Parameters that info['wfl_calc'] may set per config, e.g. charge,dft.mult "
                   "[default: none; an input file is data and cannot change the calculator]; "
                   "values must be plain (numbers, switches, short words).")
@click.option("--batch", type=click.IntRange(min=1), metavar="N",
              help="Calculators that evaluate many configs in one call (mace): at most N "
                   "configs per call; 1: one at a time [default: as many as the atom "
                   "budget allows].")
@click.option("--batch-atoms", type=click.IntRange(min=1), metavar="N",
              help="The atom budget of one call (a larger config goes alone) [default: "
                   "mace: {} on a CPU, {} on a GPU; with "
                   "--batch: none].".format(*KINDS["mace"].batch_atoms))
@click.option("--reuse-state", is_flag=True,
              help="Keep the calculator's state from one config to the next, as a plain ASE "
                   "loop does (EMT's neighbour list): faster, but results equal a fresh "
                   "calculation only to rounding (~1e-13 eV) and depend on the configs a "
                   "worker saw before (--parallel, --chunk); cached apart from the default "
                   "results, which never depend on either.")
@click.option("--list-calcs", is_flag=True, help="List the known calculators and exit.")
@config_io
@click.pass_obj
def calc(settings, calc_spec, calc_kwargs, prefix, properties, scratch, keep_files, threads,
         overrides, batch, batch_atoms, reuse_state, list_calcs, files, output, failed_output):
    """Evaluate energy, forces and stress with an ASE calculator.

    \b
    Example:
      wfl calc --calc emt --prefix REF_ cells.xyz -o labelled.xyz
      wfl --parallel 2 calc --calc tblite:method=GFN2-xTB molecules.xyz > out.xyz

    Results go to info[PREFIX+'energy'], arrays[PREFIX+'forces'] and
    info[PREFIX+'stress'] (Voigt order, eV/A^3). A config whose calculation fails keeps
    info['wfl_error'] and the exit code is 3.

    \b
    File-based codes (nwchem, cp2k, espresso, orca, vasp, castep, aims) run each config
    in a new folder under --scratch; a failed run keeps its folder, named in
    info['wfl_error'] with the end of the code's output. Nested parameters: dft.xc=PBE,
    or --calc-kwargs FILE (JSON or YAML). The command comes from WFL_<CODE>_COMMAND
    (e.g. WFL_NWCHEM_COMMAND='mpirun -np {threads} nwchem'; in a job of --nodes N, {nodes}
    and {cores} give its nodes and all their cores). info['wfl_calc'] (a table)
    changes, for one config, the parameters --overrides allows:
      wfl --parallel 2 calc --calc nwchem:theory=dft,xc=PBE,basis=6-31G* --overrides charge \
          mols.xyz

    \b
    A MACE model evaluates groups of configs in one call (--batch, --batch-atoms); the
    results equal one-at-a-time ones to rounding (~1e-16 eV in float64):
      wfl calc --calc mace:cu.model,device=auto --prefix MACE_ test.xyz -o out.xyz
    """
    if list_calcs:
        from wflcli.calculators.codes import CODES
        from wflcli.calculators.registry import PYTHON, PYTHON_SUMMARY

        for kind in KINDS.values():
            needs = f"  [needs wflcli[{kind.extra}]]" if kind.extra else ""
            if kind.name in CODES:
                needs = f"  [reads {CODES[kind.name].settings_summary}]"
            click.echo(f"{kind.name:8} {kind.summary}{needs}")
        click.echo(f"{PYTHON:8} {PYTHON_SUMMARY}")
        return ExitStatus.OK
    if not calc_spec:
        raise click.UsageError("--calc is required (see --list-calcs)")
    # the calculator's package is imported once a config is computed: a rerun served
    # from the cache never needs it
    spec, prefix, check = deferred_calculator(calc_spec, calc_kwargs, prefix)
    with spec_first(check):
        return _run(settings, spec, prefix, check, properties, scratch, keep_files, threads,
                    overrides, batch, batch_atoms, reuse_state, files, output, failed_output)


def _run(settings, spec, prefix, check, properties, scratch, keep_files, threads, overrides,
         batch, batch_atoms, reuse_state, files, output, failed_output) -> int:
    from wflcli.calculators.filecalc import FolderPolicy, check_program, is_file_based
    from wflcli.calculators.overrides import allowed_overrides
    from wflcli.calculators.scratch import default_scratch
    from wflcli.verbs.batches import BatchPolicy
    from wflcli.verbs.calc import CalcTask

    if is_file_based(spec) and not settings.remote.system:  # remotely: the job's own PATH
        check_program(spec)
    wanted = tuple(p.strip() for p in properties.split(",") if p.strip()) if properties else None
    from wflcli.io.per_input import is_pattern

    beside = None if is_pattern(output) else output  # one folder for all inputs' configs
    folders = FolderPolicy(scratch or default_scratch(beside), keep_files,
                           threads or threads_per_worker(settings.parallel))
    policy = BatchPolicy(batch, batch_atoms) if batch or batch_atoms else None
    with calc_flags():
        allowed = allowed_overrides(spec, overrides)
    task = CalcTask(spec, prefix, wanted, folders, allowed, policy,
                    reuse_state and not is_file_based(spec))  # a code's run starts clean
    if task.batches and _default_chunk():  # a chunk holds the configs of its batches
        settings.chunk = max(settings.chunk, BATCH_CHUNK)
    return run_per_config(settings, task, files, output, failed_output, threads=threads,
                          check=check)


def _default_chunk() -> bool:
    """Whether --chunk (a global option) was left at its default."""
    from click.core import ParameterSource

    root = click.get_current_context().find_root()
    return root.get_parameter_source("chunk") is ParameterSource.DEFAULT


def threads_per_worker(workers: int) -> int:
    """The cores this process may use (a job's allocation included), shared by workers."""
    return max(1, len(os.sched_getaffinity(0)) // max(1, workers))
