"""``wfl fit-mace``: fit a MACE model with mace_run_train."""

from __future__ import annotations

import click

from wflcli.cli.environment import current_environment
from wflcli.cli.notices import say
from wflcli.cli.outputs import output_file_option, refuse_input
from wflcli.cli.remote_whole import fingerprint_here
from wflcli.cli.whole_input import read_valid
from wflcli.errors import ExitStatus, UsageError

# option -> mace_run_train flag, for the settings passed only when given
_TRAINER_FLAGS = {"r_max": "r_max", "channels": "num_channels", "max_l": "max_L",
                  "correlation": "correlation", "epochs": "max_num_epochs",
                  "batch_size": "batch_size", "lr": "lr", "energy_weight": "energy_weight",
                  "forces_weight": "forces_weight", "stress_weight": "stress_weight"}


@click.command("fit-mace")
@click.argument("files", nargs=-1, metavar="[TRAIN.xyz]...")
@output_file_option("-o", "--output", "model", required=True, metavar="MODEL",
                    help="The model file; MODEL.log goes beside it.")
@click.option("--ref", default="REF_", show_default=True, metavar="PREFIX",
              help="Prefix of the reference energy, forces and stress.")
@click.option("--valid", "valid_file", metavar="FILE", help="Validation configs.")
@click.option("--valid-fraction", type=click.FloatRange(0, 1, min_open=True, max_open=True),
              help="Without --valid: the fraction of TRAIN kept for validation [default: 0.1].")
@click.option("--test", "test_file", metavar="FILE",
              help="Test configs: their errors end the log.")
@click.option("--r-max", type=click.FloatRange(min=0, min_open=True), metavar="A",
              help="Cutoff radius in A [default: mace_run_train's, 5].")
@click.option("--channels", type=click.IntRange(min=1), help="Channels of the hidden "
              "features [default: mace_run_train's, 128].")
@click.option("--max-L", "max_l", type=click.IntRange(min=0, max=3),
              help="Highest L of the messages [default: mace_run_train's, 1].")
@click.option("--correlation", type=click.IntRange(min=1), help="Body order of each layer "
              "minus one [default: mace_run_train's, 3].")
@click.option("--epochs", type=click.IntRange(min=1), help="Epochs to train.")
@click.option("--batch-size", type=click.IntRange(min=1), help="Configs per training batch "
              "[default: mace_run_train's, 10]; the training configs must fill one.")
@click.option("--lr", type=click.FloatRange(min=0, min_open=True), help="Learning rate.")
@click.option("--energy-weight", type=click.FloatRange(min=0), help="Energy loss weight.")
@click.option("--forces-weight", type=click.FloatRange(min=0), help="Forces loss weight.")
@click.option("--stress-weight", type=click.FloatRange(min=0),
              help="Stress loss weight (trains on stress too: mace_run_train's stress loss).")
@click.option("--E0s", "e0s", type=click.Choice(["isolated", "average"]), default="isolated",
              show_default=True, help="Isolated-atom energies: from the config_type="
              "isolated_atom configs (wfl atoms; not trained on), or fitted averages.")
@click.option("--seed", type=int, help="Seed of the fit [default: the global --seed].")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto",
              show_default=True, help="Where to train (auto: cuda when torch sees a GPU).")
@click.option("--dtype", type=click.Choice(["float64", "float32"]), default="float64",
              show_default=True, help="Training precision.")
@click.option("--foundation", metavar="MODEL", type=click.Path(exists=True, dir_okay=False),
              help="Fine-tune this local MACE model file.")
@click.option("--extra", multiple=True, metavar="--FLAG=VALUE",
              help="More mace_run_train arguments, passed as they are (repeatable).")
@click.option("--force", is_flag=True, help="Fit even if the model is up to date.")
@click.pass_obj
def fit_mace(settings, files, model, ref, valid_file, valid_fraction, test_file, e0s, seed,
             device, dtype, foundation, extra, force, **trainer):
    """Fit a MACE model with mace-torch's mace_run_train (reads the whole input).

    \b
    Example:
      wfl fit-mace train.xyz isolated.xyz --ref REF_ -o cu.model --test test.xyz \\
        --r-max 4 --channels 32 --max-L 1 --epochs 100 --device auto

    The fit runs in MODEL.fit-HASH/ beside MODEL; MODEL and MODEL.log (the command, the
    trainer's output and error tables) appear only when it succeeds. Killed, a rerun of the
    same command resumes from the latest checkpoint; if the model was fitted from the same
    inputs and options, nothing is done (--force refits). On a terminal, each epoch's loss
    and validation errors are shown on stderr. With wfl --remote SYS the fit is one job
    there (the up-to-date check runs here first) and MODEL and MODEL.log come back.
    """
    from wflcli.optional_packages import require

    remote = bool(settings.remote.system)
    if not remote:
        require("mace", "mace-torch", "mace", "wfl fit-mace")
    from wflcli.io.writer import format_config
    from wflcli.verbs import fit_mace as fit
    from wflcli.verbs.fit_gap import up_to_date

    if valid_file and valid_fraction:
        raise UsageError("give --valid FILE or --valid-fraction, not both")
    fit.check_extra(extra)
    refuse_input("-o", model, [*files, valid_file or "", test_file or ""])
    training, isolated = fit.training_set(read_valid(files, "fit-mace"), ref, e0s)
    texts = {"train": "".join(map(format_config, training))}
    for what, path in (("valid", valid_file), ("test", test_file)):
        if path:
            texts[what] = "".join(map(format_config, read_valid([path], "fit-mace")))
    options = tuple((_TRAINER_FLAGS[key], value) for key, value in sorted(trainer.items())
                    if value is not None)
    job = fit.MaceFit(ref, e0s, valid_fraction, settings.seed if seed is None else seed,
                      device, dtype, options, foundation, tuple(extra))
    fit.check_batches(job, len(training), bool(valid_file))
    print_ = fingerprint_here(fit.fingerprint, texts, job)
    say = (lambda text: None) if settings.quiet else (
        lambda text: click.echo(f"wfl fit-mace: {text}", err=True))
    if not force and print_ and up_to_date(model, print_):
        say(f"{model} is up to date (same inputs and options; --force refits)")
        return ExitStatus.OK
    if remote:
        from wflcli.cli.remote_whole import run_there

        return run_there(settings, "fit-mace", inputs=("valid_file", "test_file", "foundation"),
                         outputs=("model",), reuse_done=not force, configs=len(training))
    work = fit.work_folder(model, print_)
    resumed = fit.last_checkpoint(work)
    if resumed is not None:
        say(f"resuming from the checkpoint of epoch {resumed} in {work}")
    files_there = {what: f"{what}.xyz" for what in texts}
    arguments = job.arguments(isolated, files_there, _device(device))
    fit.run_fit(texts, arguments, model, work, print_, _epoch_reporter(settings))
    say(f"wrote {model} from {len(training)} configs")
    return ExitStatus.OK


def _device(device: str) -> str:
    if device != "auto":
        return device
    from wflcli.calculators.mace import chosen_device

    return chosen_device("auto")


def _epoch_reporter(settings):
    """A stderr line per epoch: only on a terminal."""
    if settings.quiet or not current_environment().stderr_isatty:
        return None

    def report(epoch: int, loss: float, errors: str) -> None:
        say(f"wfl fit-mace: epoch {epoch}  loss {loss:.6g}  validation {errors}")

    return report
