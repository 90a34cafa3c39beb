"""``wfl smiles``: molecules from SMILES strings."""

from __future__ import annotations

import sys

import click

from wflcli.cli.options import failed_option, output_option
from wflcli.cli.perconfig import run_per_config


@click.command()
@click.argument("smiles", nargs=-1)
@click.option("-i", "--file", "files", multiple=True, metavar="FILE", type=click.Path(),
              help="Read SMILES from FILE, one per line, an optional name after it "
                   "(- for stdin; stdin is read when no SMILES and no file are given).")
@click.option("--conformers", "-n", type=click.IntRange(min=1), default=1, show_default=True,
              help="Distinct conformers per molecule.")
@click.option("--force-field",
              type=click.Choice(["mmff", "uff", "none"], case_sensitive=False), default="mmff",
              show_default=True, help="Clean-up after embedding (UFF where MMFF lacks "
              "parameters).")
@output_option()
@failed_option("Write failed inputs here instead of into the output.")
@click.pass_obj
def smiles(settings, smiles, files, conformers, force_field, output, failed_output):
    """3D structures from SMILES with RDKit (hydrogens added, seeded embedding).

    \b
    Example:
      wfl smiles CCO c1ccccc1 C > molecules.xyz
      wfl smiles --conformers 3 -i molecules.smi -o conformers.xyz

    Each config carries info['smiles'], info['name'] (when given) and
    config_type=smiles; with --conformers N also info['conformer'] and
    info['conformers_found'] (a rigid molecule has fewer distinct conformers than N: the
    ones found are given). An invalid SMILES is a failed config (exit code 3).
    """
    from wflcli.optional_packages import require
    from wflcli.io.lines import named_lines
    from wflcli.verbs.smiles import SmilesTask, smiles_placeholder

    require("rdkit", "rdkit", "smiles", "wfl smiles")
    if smiles and files:
        raise click.UsageError("give SMILES as arguments or with --file, not both")
    entries = ((s, None) for s in smiles) if smiles else named_lines(files or ["-"],
                                                                     sys.stdin.buffer)
    configs = (smiles_placeholder(text, name) for text, name in entries)
    task = SmilesTask(conformers, force_field, settings.seed)
    return run_per_config(settings, task, (), output, failed_output, configs=configs)
