"""``wfl map``: the command line of a user's function as a verb."""

from __future__ import annotations

import os
import re
import sys

import click

from wflcli.cli.options import calc_flags
from wflcli.cli.perconfig import config_io, run_per_config

_KEY_VALUE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*=")


@click.command(name="map")
@click.argument("function", metavar="FUNC")
@click.option("--kwargs", "kwargs_json", metavar="JSON",
              help="Keyword arguments as a JSON object (or a JSON/YAML file); they add to, "
                   "and replace, KEY=VALUE ones.")
@click.option("--init", metavar="FACTORY",
              help="module:function or file.py:function called once per worker process; "
                   "its result is passed to FUNC as the keyword --init-as (a model loaded "
                   "once).")
@click.option("--init-as", default="state", show_default=True, metavar="NAME",
              help="The keyword under which FUNC receives the --init result.")
@click.option("--lines", "lines", multiple=True, metavar="FILE",
              help="Give FUNC each line of FILE (- for stdin) as a str instead of configs; "
                   "blank lines and lines starting with # are skipped (repeatable).")
@click.option("--lines-as-configs", is_flag=True, hidden=True)  # a batch task's --lines input
@config_io(metavar="[KEY=VALUE]... [FILE]...")
@click.pass_obj
def map_(settings, function, kwargs_json, init, init_as, lines, lines_as_configs, files,
         output, failed_output):
    """Run your own Python function on every config: parallel, cached, remote.

    \b
    Example: my_ops.py holds
      def cap_bonds(atoms, cap_with="H"):
          ...                          # add cap_with atoms to dangling bonds
          return atoms
    and
      wfl --parallel 4 map my_ops.py:cap_bonds cap_with=H in.xyz -o out.xyz
    runs it on every config of in.xyz, 4 at a time.

    \b
    FUNC is package.module:function (importable) or path/to/file.py:function. It takes
    one ase.Atoms and keywords from KEY=VALUE (typed as --calc parameters: 2, 0.5,
    true, text) or --kwargs, and returns Atoms, a list of Atoms (several outputs, in
    order) or None (dropped). A parameter named rng receives the config's own
    numpy.random.Generator (from --seed and the config's content, so the same however
    the run is split). An exception, or any other return value, fails that config alone:
    it keeps info['wfl_error'] with the line of your file, and the exit code is 3.

    Results are cached per config, keyed on the function's source and that of the
    modules it imports from its folder or package (installed packages by version),
    the keywords, --init, the files they name, and the config.

    \b
    A model loaded once per worker, text lines as inputs, batch jobs (give the
    function by absolute path or as an installed module):
      wfl map ops.py:from_smiles --lines mols.smi --init ops.py:load_model > out.xyz
      wfl --remote cluster map /home/me/ops.py:relax in.xyz -o out.xyz
    """
    from wflcli.calculators.spec import json_kwargs, set_dotted, typed_value
    from wflcli.calculators.spec_error import KWARGS, SPEC
    from wflcli.usercode.function import function_spec
    from wflcli.verbs.map import MapTask, line_placeholder

    kwargs, inputs = {}, []
    with calc_flags({SPEC: "wfl map", KWARGS: "--kwargs"}):
        for item in files:
            if _KEY_VALUE.match(item) and not os.path.exists(item):
                key, _, value = item.partition("=")
                set_dotted(kwargs, key, typed_value(value))
            else:
                inputs.append(item)
        kwargs.update(json_kwargs(kwargs_json, "keyword arguments"))
    if lines and inputs:
        raise click.UsageError("give input FILEs or --lines FILE, not both")
    spec = function_spec(function, kwargs, init, init_as)
    configs = None
    if lines:
        from wflcli.io.lines import whole_lines

        configs = map(line_placeholder, whole_lines(lines, sys.stdin.buffer))
    task = MapTask(spec, bool(lines) or lines_as_configs, settings.seed)
    remote = [spec.target, "--kwargs", spec.kwargs_json]
    if spec.init:
        remote += ["--init", spec.init, "--init-as", spec.init_as]
    if task.lines:
        remote.append("--lines-as-configs")
    return run_per_config(settings, task, inputs, output, failed_output, configs=configs,
                          remote_args=remote)
