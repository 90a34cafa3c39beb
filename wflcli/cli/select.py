"""``wfl select-cur`` and ``wfl select-fps``: the most diverse configs by their descriptors."""

from __future__ import annotations

import click

from wflcli.cli.descriptor import soap_options, soap_task
from wflcli.cli.notices import warn
from wflcli.cli.options import files_argument, output_option
from wflcli.cli.outputs import output_file_option
from wflcli.cli.whole_input import read_valid, write_configs
from wflcli.errors import ExitStatus, UsageError

CUR_ALGORITHMS = ("greedy", "wfl")


def selection_options(command):
    options = [
        output_option("Write the selection here (atomically) instead of stdout."),
        output_file_option("--rest", help="Write the configs not selected here."),
        click.option("--keep-descriptor", is_flag=True,
                     help="Keep the descriptor in the output (default: drop it)."),
        click.option("--exclude", metavar="FILE", type=click.Path(),
                     help="Configs already chosen (a training set): never picked again, and "
                          "the selection avoids what they cover."),
        click.option("--proportional", is_flag=True,
                     help="With --by: N in all, shared in proportion to group sizes."),
        click.option("--by", metavar="KEY", help="Select N per group of info[KEY] "
                     "(e.g. config_type)."),
        click.option("--key", default="soap", show_default=True,
                     help="Descriptor in info[KEY]; computed with the SOAP options when "
                          "absent."),
        click.option("-n", "count", type=click.IntRange(min=1), required=True,
                     help="How many configs to select."),
    ]
    for option in options:
        command = option(command)
    command = soap_options(command)
    return files_argument(command)


def run_selection(settings, verb, choose, files, count, key, by, proportional, exclude, rest,
                  keep_descriptor, output, soap):
    """Load, describe if needed, choose per group, and write selection and rest."""
    if settings.remote.system:
        from wflcli.cli.remote_whole import run_there

        return run_there(settings, verb, inputs=("exclude",), outputs=("output", "rest"))
    from wflcli.verbs.select import candidates, choose_per_group

    configs = read_valid(files, verb, settings.quiet)
    excluded_configs = read_valid([exclude], verb, settings.quiet) if exclude else []
    matrix, excluded = _descriptors(configs, excluded_configs, key, soap)
    labels = [atoms.info.get(by) for atoms in configs] if by else [None] * len(configs)
    pool = candidates(matrix, excluded)
    if count > len(pool):
        warn(click.get_current_context().info_name, f"-n {count} is more than the "
             f"{len(pool)} configs to choose from: all of them are selected")
    chosen = choose_per_group(matrix, excluded, labels, pool, count, proportional, choose)
    if not keep_descriptor:
        for atoms in configs:
            atoms.info.pop(key, None)
    write_configs([a for i, a in enumerate(configs) if i in chosen], output)
    if rest:
        write_configs([a for i, a in enumerate(configs) if i not in chosen], rest)
    return ExitStatus.OK


def _descriptors(configs, excluded_configs, key, soap):
    """Descriptor rows of the pool and of the excluded configs (computed where absent)."""
    import numpy as np  # here, not at the top: `wfl --help` loads this module

    everything = configs + excluded_configs
    if not configs:
        raise UsageError("no configs to select from")
    if all(key in atoms.info for atoms in everything):
        rows = [np.atleast_1d(np.asarray(atoms.info[key], dtype=float)) for atoms in everything]
    else:
        task, _ = soap_task(soap, key, False, everything)
        describe = task.start()
        rows = [describe(atoms, None)["info"][key] for atoms in everything]
    if len({row.shape for row in rows}) != 1:
        raise UsageError(f"info[{key!r}] does not have the same length in every config")
    matrix = np.vstack(rows)
    return matrix[:len(configs)], (matrix[len(configs):] if excluded_configs else None)


@click.command("select-cur")
@click.option("--kernel-exponent", type=click.FloatRange(min=0, min_open=True), default=1.0,
              show_default=True, metavar="ZETA",
              help="Select on the dot-product kernel raised to ZETA.")
@click.option("--stochastic", is_flag=True,
              help="Draw by leverage score (seeded by --seed) instead of the greedy top.")
@click.option("--algorithm", type=click.Choice(CUR_ALGORITHMS), default="greedy",
              show_default=True, help="greedy: deflate after each pick (as skmatter); "
                                      "wfl: libAtoms wfl's top leverage scores, no deflation.")
@selection_options
@click.pass_obj
def select_cur(settings, kernel_exponent, stochastic, algorithm, files, count, key, by,
               proportional, exclude, keep_descriptor, rest, output, soap):
    """Select the N most diverse configs by CUR leverage scores (reads the whole input).

    \b
    Example:
      wfl select-cur -n 100 --by config_type --exclude train.xyz pool.xyz -o new.xyz
      wfl descriptor --species H,C,O pool.xyz | wfl select-cur -n 50 --rest rest.xyz

    \b
    Two algorithms pick different configs from the same descriptors:
    greedy (default): the config with the top leverage score on the leading singular
      vector, then its direction removed from every row, and again (the greedy
      deflation CUR of skmatter's CUR selector; Imbalzano et al., J. Chem. Phys. 148,
      241730 (2018)), so clusters are covered before any is picked twice;
    wfl: the N top leverage scores on the leading max(1, N/2) singular vectors of the
      centred descriptors (or centred kernel), no deflation: libAtoms wfl's
      CUR_conf_global(stochastic=False) (Mahoney and Drineas, PNAS 106, 697 (2009)),
      to reproduce a selection made with wfl.
    The output keeps input order.
    """
    from wflcli.verbs.select import KernelTooLarge, cur_chooser

    if algorithm == "wfl" and stochastic:
        raise UsageError("--stochastic draws by leverage score; --algorithm wfl is "
                         "deterministic (give one of them)")
    chooser = cur_chooser(algorithm, kernel_exponent, stochastic, settings.seed)

    def choose(matrix, share, excluded):
        try:
            return chooser(matrix, share, excluded)
        except KernelTooLarge as exc:
            raise UsageError(str(exc)) from None

    return run_selection(settings, "select-cur", choose, files, count, key, by, proportional,
                         exclude, rest, keep_descriptor, output, soap)


@click.command("select-fps")
@selection_options
@click.pass_obj
def select_fps(settings, files, count, key, by, proportional, exclude, keep_descriptor, rest,
               output, soap):
    """Select N configs by greedy farthest point sampling (reads the whole input).

    \b
    Example:
      wfl select-fps -n 100 pool.xyz -o picked.xyz

    Starts from the config farthest from the mean descriptor (or from the --exclude
    configs), then repeatedly adds the one farthest from all picked so far.
    """
    from wflcli.verbs.select import farthest_points

    return run_selection(settings, "select-fps", farthest_points, files, count, key, by,
                         proportional, exclude, rest, keep_descriptor, output, soap)
