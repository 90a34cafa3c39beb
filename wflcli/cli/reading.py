"""The verbs that only read: ``wfl cat`` and ``wfl head`` pass frames on (as their text,
not remade from Atoms when it already is the written form), ``wfl count`` and ``wfl info``
describe them."""

from __future__ import annotations

import io
import itertools
import json
import sys

import click

from wflcli.cli.options import files_argument, output_option
from wflcli.cli.stdout import data_stdout
from wflcli.cli.whole_input import say_left_out, write_configs, write_text
from wflcli.errors import ExitStatus, ReaderGone


def _configs(files, allow_empty: bool = False):
    from wflcli.io.reader import read_configs

    return read_configs(files or ["-"], sys.stdin.buffer, allow_empty)


def _frames(files):
    from wflcli.io.reader import read_frames

    return read_frames(files or ["-"], sys.stdin.buffer)


def _write_frames(frames, output: str | None) -> None:
    """Write each frame's text to ``output`` (atomically) or stdout, each frame pushed on
    at once (a pipeline's next stage starts on it while this one reads on)."""
    from wflcli.io.output import open_output

    try:
        with data_stdout() as stdout, open_output(output, stdout) as sink:
            for frame in frames:
                sink.write(frame.text)
                sink.flush()
    except BrokenPipeError:
        raise ReaderGone() from None


@click.command()
@files_argument
@click.option("-f", "--format", "fmt", metavar="FORMAT",
              help="Read FILEs with ASE in this format (traj, vasp-xdatcar, cif, ...); "
                   "calculator results become plain info/arrays keys.")
@output_option()
def cat(files, fmt, output):
    """Concatenate configs, converting from any format ASE reads (streams).

    \b
    Example:
      wfl cat a.xyz b.xyz.gz > all.xyz
      wfl cat -f traj md.traj -o md.xyz
    """
    if fmt:
        write_configs(_ase_configs(files, fmt), output)
    else:
        _write_frames(_frames(files), output)
    return ExitStatus.OK


def _ase_configs(files, fmt):
    """``cat -f FORMAT``: every file (stdin too) read by ASE in that format."""
    from ase.io.formats import ioformats

    from wflcli.errors import UsageError
    from wflcli.io.formats import read_with_ase

    if fmt not in ioformats or not ioformats[fmt].can_read:
        raise UsageError(f"-f {fmt}: not a format ASE can read (`ase info --formats` "
                         "lists them)")
    binary = ioformats[fmt].isbinary
    for path in files or ["-"]:
        source = path
        if path == "-":
            source = sys.stdin.buffer if binary else io.TextIOWrapper(sys.stdin.buffer, "utf-8")
        yield from read_with_ase(source, fmt, name=path)


@click.command()
@files_argument
@click.option("-n", "count", type=click.IntRange(min=0), default=10, show_default=True,
              help="How many configs.")
def head(files, count):
    """The first N configs (reads no further).

    \b
    Example:
      wfl head -n 5 big.xyz | wfl calc --calc emt
    """
    _write_frames(itertools.islice(_frames(files), count), None)
    return ExitStatus.OK


@click.command()
@files_argument
@click.option("--json", "as_json", is_flag=True, help="As JSON.")
@click.option("--by", default="config_type", show_default=True, metavar="KEY",
              help="Count configs per value of info[KEY].")
@click.option("--keys", "with_keys", is_flag=True,
              help="Also the info and arrays keys: type and how many configs have each, "
                   "and the result prefixes (REF_, GAP_, ...) they make.")
def count(files, as_json, by, with_keys):
    """Count configs, atoms, elements and config types (reads the whole input; configs
    that failed upstream are left out and counted on stderr).

    \b
    Example:
      wfl count train.xyz
      wfl count --keys train.xyz test.xyz
      wfl count --json *.xyz | jq .total.configs

    With several files: one block per file, then the total (--json: {"files": {...},
    "total": {...}}). Empty input counts 0.
    """
    from wflcli.verbs.count import Tally
    from wflcli.verbs.upstream import failed_upstream

    names = list(files) or ["-"]
    tallies, left_out = {}, 0
    for name in names:
        tally = tallies[name] = Tally()
        for atoms in _configs([name], allow_empty=True):
            if failed_upstream(atoms):
                left_out += 1
            else:
                tally.add(atoms, by)
    say_left_out("count", left_out)
    total = Tally()
    for tally in tallies.values():
        total.merge(tally)

    def report(tally: Tally) -> dict:
        return {**tally.summary(by), **(tally.keys() if with_keys else {})}

    if as_json:
        data = report(total) if len(names) == 1 else {
            "files": {name: report(t) for name, t in tallies.items()}, "total": report(total)}
        write_text(json.dumps(data) + "\n")
        return ExitStatus.OK
    blocks = [(name, t) for name, t in tallies.items()] if len(names) > 1 else []
    blocks.append(("total" if len(names) > 1 else "", total))
    write_text("\n".join(_count_block(name, report(t), by) for name, t in blocks))
    return ExitStatus.OK


def _count_block(name: str, report: dict, by: str) -> str:
    lines = [f"== {name}"] if name else []
    lines += [f"configs  {report['configs']}", f"atoms    {report['atoms']}",
              "species  " + " ".join(f"{s}:{n}" for s, n in report["species"].items()),
              f"{by}:"] + [f"  {group:20} {n}" for group, n in report[by].items()]
    for part in ("info", "arrays"):
        if part in report:
            lines.append(f"{part} keys:")
            lines += [f"  {row['key']:20} {row['type']:12} {row['configs']}"
                      for row in report[part]]
    if "prefixes" in report:
        lines.append("result prefixes: " + (", ".join(
            f"{prefix} ({', '.join(results)})" for prefix, results in
            report["prefixes"].items()) or "none"))
    return "\n".join(lines) + "\n"


@click.command()
@files_argument
@click.option("-k", "--keys", "key_lists", multiple=True, required=True, metavar="KEY,...",
              help="The columns: info keys, comma-separated (repeatable).")
@click.option("-i", "--input", "more_files", multiple=True, metavar="FILE", type=click.Path(),
              help="Also read this file (as a FILE argument; repeatable).")
@click.option("--no-header", is_flag=True, help="Leave out the line of key names.")
def info(files, key_lists, more_files, no_header):
    """Print info values as tab-separated columns, one config a line (streams).

    \b
    Example:
      wfl info -k config_type,REF_energy,natoms train.xyz | sort -k2 -g | head

    Besides info keys: natoms, formula, index. Vectors print space-separated; a
    missing value prints as an empty field.
    """
    from wflcli.verbs.info import info_rows

    keys = [key for keys in key_lists for key in keys.split(",") if key]
    if not keys:
        raise click.UsageError("-k/--keys names no key")
    if not no_header:
        write_text("\t".join(keys) + "\n")
    for row in info_rows(_frames([*files, *more_files]), keys):
        write_text(row)
    return ExitStatus.OK
