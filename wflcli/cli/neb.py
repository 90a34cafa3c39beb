"""``wfl neb``: the command line of the nudged elastic band verb."""

from __future__ import annotations

import sys

import click

from wflcli.cli.options import calc_options, calculator
from wflcli.cli.perconfig import config_io, run_per_config


@click.command()
@calc_options(results="images' results")
@click.option("--images", type=click.IntRange(min=1), default=7, show_default=True,
              help="Images between the two endpoints.")
@click.option("--climb", is_flag=True, help="Climbing image (the top image climbs to the "
              "saddle point).")
@click.option("--relax-ends", is_flag=True, help="Relax both endpoints first.")
@click.option("--interpolation", type=click.Choice(["linear", "idpp"]), default="linear",
              show_default=True, help="Initial path between the endpoints.")
@click.option("--optimizer", type=click.Choice(["fire", "bfgs", "lbfgs"]), default="fire",
              show_default=True)
@click.option("--fmax", type=click.FloatRange(min=0, min_open=True), default=0.05,
              show_default=True, help="Converged when every NEB force is below this (eV/A).")
@click.option("--steps", type=click.IntRange(min=0), default=1000, show_default=True,
              help="At most this many optimizer steps (the band, and each endpoint with "
                   "--relax-ends).")
@click.option("--spring", type=click.FloatRange(min=0, min_open=True), default=0.1,
              show_default=True, help="Spring constant between images (eV/A^2).")
@click.option("--method", type=click.Choice(["improvedtangent", "aseneb", "eb", "spline",
                                             "string"]),
              default="improvedtangent", show_default=True, help="ASE's NEB method.")
@click.option("--by", metavar="KEY", help="Endpoints are the two configs of each info[KEY] "
              "group [default: consecutive pairs].")
@config_io
@click.pass_obj
def neb(settings, calc_spec, calc_kwargs, prefix, images, climb, relax_ends, interpolation,
        optimizer, fmax, steps, spring, method, by, files, output, failed_output):
    """Minimum energy paths by the nudged elastic band (ASE's NEB).

    \b
    Example:
      wfl neb --calc emt --images 7 --climb --relax-ends endpoints.xyz > bands.xyz
      wfl neb --calc emt --by reaction minima.xyz -o bands.xyz

    Endpoints are consecutive pairs of the input (1st and 2nd, 3rd and 4th, ...), or the
    two configs of each group with --by (which reads the whole input first); the first
    endpoint's info and fixed atoms go to every image. Each band is written as its images, endpoints
    included, each with its results under the prefix, info['neb_image'] and, on every
    image, info['neb_barrier'] (highest image energy minus the initial one),
    info['neb_reverse_barrier'], info['neb_converged'] and info['neb_steps']. Endpoints
    that cannot make a band (different atoms or cells, no partner) fail with the reason.
    """
    from wflcli.io.reader import read_configs
    from wflcli.verbs.neb import NebTask, endpoint_pairs

    task = NebTask(*calculator(calc_spec, calc_kwargs, prefix), images, climb, relax_ends,
                   interpolation, optimizer, fmax, steps, spring, method)
    pairs = endpoint_pairs(read_configs(files or ["-"], sys.stdin.buffer), by)
    return run_per_config(settings, task, (), output, failed_output, configs=pairs)
