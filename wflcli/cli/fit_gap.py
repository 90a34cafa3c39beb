"""``wfl fit-gap``: fit a Gaussian Approximation Potential."""

from __future__ import annotations

import json

import click

from wflcli.cli.notices import say, warn
from wflcli.cli.options import files_argument
from wflcli.cli.outputs import output_file_option, refuse_input, regular_file
from wflcli.cli.progress import phases
from wflcli.cli.remote_whole import fingerprint_here
from wflcli.cli.whole_input import read_valid
from wflcli.errors import ExitStatus, UsageError, WflError


def _sigmas(text: str) -> tuple:
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        values = ()
    if len(values) != 4:
        raise UsageError(f"{text!r}: expected 4 numbers: energy,force,virial,hessian")
    return values


def _params_file(path: str) -> dict:
    """gap_fit settings from a YAML or JSON file (a mapping of gap_fit keys)."""
    try:
        with open(path) as stream:
            text = stream.read()
    except OSError as exc:
        raise UsageError(f"--params {path}: {exc.strerror}") from None
    try:
        if path.endswith((".yaml", ".yml")):
            import yaml

            data = yaml.safe_load(text)
        else:
            data = json.loads(text)
    except Exception as exc:  # the parser's own message says what and where
        raise UsageError(f"--params {path}: {exc}") from None
    if not isinstance(data, dict):
        raise UsageError(f"--params {path}: expected a mapping of gap_fit settings")
    return data


def _check_data(configs, descriptors, quiet: bool) -> None:
    """Before gap_fit runs: a descriptor part with no data stops it (sparse_method=uniform,
    an error here) or is fitted on nothing (a warning)."""
    from wflcli.verbs.gap_descriptors import empty_parts

    parts = empty_parts(configs, descriptors)
    fatal = [part for part in parts if part.fatal]
    if fatal:
        raise WflError("; ".join(f"--gap {p.index} ({p.name}): {p.problem}" for p in fatal)
                       + ": gap_fit would stop on it (sparse_method=uniform). Add configs "
                       "that have it, choose the species (add_species=F Z1=.. Z2=..), or "
                       "use sparse_method=cur_points or random")
    if not quiet:
        for part in parts:
            warn("fit-gap", f"--gap {part.index} ({part.name}): {part.problem}: that part "
                 "is fitted on no data")


@click.command("fit-gap")
@files_argument
@output_file_option("-o", "--output", "model", required=True, metavar="GAP.xml",
                    help="The model file; its sparse files and GAP.xml.log go beside it.")
@click.option("--ref", default="REF_", show_default=True, metavar="PREFIX",
              help="Prefix of the reference energy, forces and stress.")
@click.option("--gap", "descriptors", multiple=True, metavar="STRING",
              help="A descriptor and its kernel, quip style (repeat for several), e.g. "
                   "'distance_2b cutoff=4 covariance_type=ard_se delta=0.5 theta_uniform=1 "
                   "sparse_method=uniform n_sparse=20'.")
@click.option("--sigma", default="0.002,0.05,0.05,0", show_default=True,
              metavar="E,F,V,H", help="Default sigmas: energy, force, virial, hessian.")
@click.option("--config-type-sigma", multiple=True, metavar="TYPE:E,F,V,H",
              help="Sigmas for one config_type (repeatable).")
@click.option("--e0", metavar="SPEC", help="Isolated-atom energies 'H:-13.6,C:-1029.8', or "
              "'average' [default: from the config_type=isolated_atom configs].")
@click.option("--params", "params_file", metavar="FILE", type=click.Path(),
              help="gap_fit settings as YAML or JSON (options given here win).")
@click.option("--threads", type=click.IntRange(min=1), help="OMP_NUM_THREADS for the fit.")
@click.option("--force", is_flag=True, help="Fit even if the model is up to date.")
@click.pass_obj
def fit_gap(settings, files, model, ref, descriptors, sigma, config_type_sigma, e0,
            params_file, threads, force):
    """Fit a GAP with quippy-ase's gap_fit (reads the whole input).

    \b
    Example:
      wfl fit-gap train.xyz isolated.xyz --ref REF_ -o GAP.xml \\
        --gap 'distance_2b cutoff=4 covariance_type=ard_se delta=0.5 theta_uniform=1 \\
               sparse_method=uniform n_sparse=20' \\
        --gap 'soap cutoff=4 l_max=4 n_max=6 atom_sigma=0.5 delta=0.2 zeta=4 \\
               covariance_type=dot_product sparse_method=cur_points n_sparse=100'

    The fit runs in a private folder; GAP.xml, its sparse files and GAP.xml.log (the
    command, gap_fit's output, a fingerprint) appear only when it succeeds; when it
    fails, its error lines are shown and its output stays in GAP.xml.failed.log. A
    descriptor that can get no data from the training set is reported before the fit.
    If the model was fitted from the same inputs and parameters, nothing is done
    (--force refits). With wfl --remote SYS the fit is one job there (this check runs
    here first) and its files come back into place.
    """
    from wflcli.optional_packages import require
    from wflcli.io.writer import format_config
    from wflcli.verbs import fit_gap as fit

    remote = bool(settings.remote.system)
    if not remote:
        require("quippy", "quippy-ase", "gap", "wfl fit-gap")
    target = regular_file("-o", model)
    refuse_input("-o", model, files)
    refuse_input("-o", model + ".log", files)  # the fit's log, written beside the model
    extra = _params_file(params_file) if params_file else {}
    from_file = extra.pop("gap", [])
    descriptors = list(descriptors) or ([from_file] if isinstance(from_file, str) else
                                        list(from_file))
    if not descriptors:
        raise UsageError("give the model with --gap (or 'gap' in --params)")
    per_type = {}
    for item in config_type_sigma:
        name, _, values = item.partition(":")
        per_type[name] = _sigmas(values)
    with phases("fit-gap", not settings.quiet) as show:
        show("reading the training configs")
        configs = fit.training_configs(read_valid(files, "fit-gap"), ref, descriptors)
        _check_data(configs, descriptors, settings.quiet)
        job = fit.GapFit(ref, descriptors, _sigmas(sigma), e0, per_type, settings.seed, extra)
        arguments = job.arguments(configs)
        training_text = "".join(format_config(atoms) for atoms in configs)
        print_ = fingerprint_here(fit.fingerprint, training_text, arguments)
        if not force and print_ and fit.up_to_date(target, print_):
            if not settings.quiet:
                say(f"wfl fit-gap: {model} is up to date (same inputs and parameters; "
                    "--force refits)")
            return ExitStatus.OK
        if not remote:
            show(f"gap_fit: starting on {len(configs)} configs")
            fit.run_fit(training_text, arguments, target, threads, print_, show)
    if remote:
        from wflcli.cli.remote_whole import run_there

        return run_there(settings, "fit-gap", inputs=("params_file",), outputs=("model",),
                         reuse_done=not force, configs=len(configs))
    if not settings.quiet:
        say(f"wfl fit-gap: wrote {model} from {len(configs)} configs")
    return ExitStatus.OK
