"""``wfl calc``: the command line of the single-point verb."""

from __future__ import annotations

import click

from wflcli.cli.perconfig import config_io, run_per_config


@click.command()
@click.option("--calc", "calc_spec", metavar="SPEC",
              help="Calculator: NAME[:key=value,...], e.g. emt, lj:sigma=2.3, "
                   "tblite:method=GFN1-xTB, python:module:Class.")
@click.option("--calc-kwargs", metavar="JSON", help="More constructor arguments, as JSON.")
@click.option("--prefix", help="Prefix of the result keys [default: calculator name + _].")
@click.option("--properties", metavar="LIST",
              help="Comma-separated properties [default: energy,forces,stress where the "
                   "calculator has them; stress only for periodic cells].")
@click.option("--list-calcs", is_flag=True, help="List the known calculators and exit.")
@config_io
@click.pass_obj
def calc(settings, calc_spec, calc_kwargs, prefix, properties, list_calcs, files, output,
         failed_output):
    """Evaluate energy, forces and stress with an ASE calculator.

    \b
    Example:
      wfl calc --calc emt --prefix REF_ cells.xyz -o labelled.xyz
      wfl --parallel 2 calc --calc tblite:method=GFN2-xTB molecules.xyz > out.xyz

    Results go to info[PREFIX+'energy'], arrays[PREFIX+'forces'] and
    info[PREFIX+'stress'] (Voigt order, eV/A^3). A config whose calculation fails keeps
    info['wfl_error'] and the exit code is 3.
    """
    if list_calcs:
        from wflcli.calculators.registry import KINDS, PYTHON, PYTHON_SUMMARY

        for kind in KINDS.values():
            needs = f"  [needs wflcli[{kind.extra}]]" if kind.extra else ""
            click.echo(f"{kind.name:8} {kind.summary}{needs}")
        click.echo(f"{PYTHON:8} {PYTHON_SUMMARY}")
        return 0
    if not calc_spec:
        raise click.UsageError("--calc is required (see --list-calcs)")
    from wflcli.calculators.spec import parse_calc_spec
    from wflcli.verbs.calc import CalcTask

    spec = parse_calc_spec(calc_spec, calc_kwargs)
    wanted = tuple(p.strip() for p in properties.split(",") if p.strip()) if properties else None
    task = CalcTask(spec, spec.short_name + "_" if prefix is None else prefix, wanted)
    return run_per_config(settings, task, files, output, failed_output)
