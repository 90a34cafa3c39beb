"""``wfl descriptor``: SOAP vectors for each config."""

from __future__ import annotations

import dataclasses
import functools

import click

from wflcli.cli.perconfig import config_io, read_inputs, run_per_config


@dataclasses.dataclass(frozen=True)
class SoapOptions:
    """The SOAP options as given on the command line, handed to a command as one value."""

    cutoff: float
    l_max: int
    n_max: int
    atom_sigma: float
    species: str | None  # None: the elements of the input
    no_normalize: bool

    def settings(self):
        from wflcli.verbs.descriptor import SoapSettings

        return SoapSettings(self.cutoff, self.l_max, self.n_max, self.atom_sigma,
                            normalize=not self.no_normalize)


def soap_options(command):
    """The SOAP settings, shared with select-cur/select-fps (which compute on the fly); the
    command is given them as ``soap``, a SoapOptions."""
    names = [field.name for field in dataclasses.fields(SoapOptions)]

    @functools.wraps(command)
    def with_soap(*args, **kwargs):
        soap = SoapOptions(**{name: kwargs.pop(name) for name in names})
        return command(*args, soap=soap, **kwargs)

    options = [
        click.option("--no-normalize", is_flag=True,
                     help="Keep raw power spectra (default: unit-length vectors)."),
        click.option("--species", metavar="LIST",
                     help="Elements the vectors cover, e.g. H,C,O [default: those in the "
                          "input, which is then read whole first]."),
        click.option("--atom-sigma", type=click.FloatRange(min=0, min_open=True),
                     default=0.5, show_default=True, help="Width of the atomic Gaussians (A)."),
        click.option("--n-max", type=click.IntRange(min=1), default=4, show_default=True,
                     help="Radial basis functions."),
        click.option("--l-max", type=click.IntRange(min=0), default=4, show_default=True,
                     help="Largest angular momentum."),
        click.option("--cutoff", type=click.FloatRange(min=0, min_open=True), default=5.0,
                     show_default=True, help="Cutoff radius (A)."),
    ]
    for option in options:
        with_soap = option(with_soap)
    return with_soap


def parse_species(text: str | None) -> tuple[int, ...] | None:
    if not text:
        return None
    from ase.data import atomic_numbers

    symbols = [s.strip() for s in text.replace(" ", ",").split(",") if s.strip()]
    unknown = [s for s in symbols if s not in atomic_numbers]
    if unknown:
        raise click.BadParameter(f"unknown element(s) {', '.join(unknown)}", param_hint="--species")
    return tuple(sorted({atomic_numbers[s] for s in symbols}))


def soap_task(soap: SoapOptions, key, local, configs):
    """The SOAP task and the configs to run it on (read whole when species come from them)."""
    from wflcli.verbs.descriptor import DescriptorTask

    chosen = parse_species(soap.species)
    if chosen is None:
        configs = list(configs)
        chosen = tuple(sorted({int(z) for atoms in configs for z in atoms.numbers}))
    return DescriptorTask(soap.settings(), chosen, key, local), configs


@click.command()
@soap_options
@click.option("--quip", metavar="STRING",
              help="Any quippy descriptor instead, e.g. 'soap cutoff=5 l_max=6 n_max=8 "
                   "atom_sigma=0.5 average=T' (needs quippy-ase, the gap extra).")
@click.option("--key", default="soap", show_default=True,
              help="Store the vector in info[KEY] (arrays[KEY] with --local).")
@click.option("--local", is_flag=True, help="Per-atom vectors instead of the config average.")
@config_io
@click.pass_obj
def descriptor(settings, soap, quip, key, local, files, output, failed_output):
    """SOAP descriptor vectors, averaged per config or per atom.

    \b
    Example:
      wfl descriptor --cutoff 5 --l-max 4 --n-max 4 --species H,C,O pool.xyz > desc.xyz
      wfl descriptor --quip 'soap cutoff=5 l_max=6 n_max=8 atom_sigma=0.5 average=T' in.xyz

    Vectors come from featomic's SOAP power spectrum (unit length unless
    --no-normalize; averages of unit per-atom vectors, normalized again). Give --species
    to stream; without it the input is read whole to find its elements.
    """
    from wflcli.optional_packages import require
    from wflcli.errors import UsageError

    if settings.remote.system and not (soap.species or quip):
        raise UsageError("with --remote, give --species: every job must use the same "
                         "species as the whole input")
    configs = inputs = read_inputs(files)
    if quip:
        from wflcli.verbs.descriptor import QuipDescriptorTask

        require("quippy", "quippy-ase", "gap", "wfl descriptor --quip")
        task = QuipDescriptorTask(quip, key, local)
    else:
        require("featomic", "featomic", "descriptors", "wfl descriptor")
        task, configs = soap_task(soap, key, local, configs)
    return run_per_config(settings, task, files, output, failed_output, configs=configs,
                          inputs=inputs)
