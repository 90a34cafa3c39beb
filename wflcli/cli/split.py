"""``wfl split``: a train/test split."""

from __future__ import annotations

import click

from wflcli.cli.options import files_argument
from wflcli.cli.outputs import output_file_option
from wflcli.cli.whole_input import read_valid, write_configs
from wflcli.errors import ExitStatus


@click.command()
@files_argument
@output_file_option("--train", required=True, help="Where the training configs go.")
@output_file_option("--test", required=True, help="Where the test configs go.")
@click.option("--fraction", type=click.FloatRange(0, 1), default=0.8, show_default=True,
              help="Share of configs (of each group, with --by) that go to --train.")
@click.option("--every", type=click.IntRange(min=2), metavar="K",
              help="Instead of a random split, every Kth config goes to --test.")
@click.option("--by", metavar="KEY", help="Split each group of info[KEY] separately "
              "(stratified).")
@click.pass_obj
def split(settings, files, train, test, fraction, every, by):
    """Split configs into a training and a test set (reads the whole input).

    \b
    Example:
      wfl split --fraction 0.9 --by config_type --train train.xyz --test test.xyz all.xyz
      wfl split --every 5 --train train.xyz --test test.xyz all.xyz

    A random split is seeded by --seed; the two files are disjoint, together hold every
    input config except those that failed upstream (left out, and counted on stderr),
    and keep input order.
    """
    if settings.remote.system:
        from wflcli.cli.remote_whole import run_there

        return run_there(settings, "split", outputs=("train", "test"))
    from wflcli.verbs.split import held_out_positions

    configs = read_valid(files, "split")
    labels = [atoms.info.get(by) if by else None for atoms in configs]
    to_test = held_out_positions(labels, fraction, every, settings.seed)
    write_configs([a for i, a in enumerate(configs) if i not in to_test], train)
    write_configs([a for i, a in enumerate(configs) if i in to_test], test)
    if not settings.quiet:
        click.echo(f"wfl split: {len(configs) - len(to_test)} to {train}, {len(to_test)} to "
                   f"{test}", err=True)
    return ExitStatus.OK
