"""``wfl cache``: see and clean the per-config result cache."""

from __future__ import annotations

import click

from wflcli.cli.housekeeping import confirm_removal, format_when, parse_age
from wflcli.errors import ExitStatus, UsageError


@click.group()
def cache():
    """See and clean the per-config result cache in the store.

    \b
    Example:
      wfl cache info
      wfl cache clean --verb calc --older-than 30d --yes

    Every per-config verb keeps each config's result, keyed on the config's content, the
    verb, its parameters, the calculator (with the content of its model files) and the
    wflcli version, so a rerun computes only what is missing.
    """


@cache.command()
def info():
    """Entries and size per verb.

    \b
    Example:
      wfl cache info
    """
    from wflcli.store.cache import open_result_cache

    rows = open_result_cache().summary()
    if not rows:
        click.echo("the cache is empty")
        return ExitStatus.OK
    click.echo(f"{'verb':12} {'entries':>9} {'size':>10}  oldest               newest")
    for verb, count, size, oldest, newest in rows:
        click.echo(f"{verb:12} {count:9d} {_size(size):>10}  {format_when(oldest)}  {format_when(newest)}")
    return ExitStatus.OK


@cache.command()
@click.option("--verb", help="Only results of this verb.")
@click.option("--older-than", metavar="AGE", help="Only results older than AGE (30d, 12h, 1w).")
@click.option("--all", "everything", is_flag=True, help="Every result (needed if no filter).")
@click.option("--dry-run", is_flag=True, help="Say what would be removed; remove nothing.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask (required when not interactive).")
def clean(verb, older_than, everything, dry_run, yes):
    """Remove cached results.

    \b
    Example:
      wfl cache clean --older-than 30d --dry-run
      wfl cache clean --all --yes
    """
    from wflcli.store.cache import open_result_cache

    if not (verb or older_than or everything):
        raise UsageError("say what to remove: --verb, --older-than, or --all")
    age = parse_age(older_than, "--older-than") if older_than else None
    store = open_result_cache()
    count, size = store.select(verb, age)
    what = f"{count} cached results ({_size(size)})"
    if dry_run or count == 0:
        click.echo(f"would remove {what}" if dry_run else "nothing to remove")
        return ExitStatus.OK
    confirm_removal(what, yes)
    click.echo(f"removed {store.remove(verb, age)} cached results ({_size(size)})")
    return ExitStatus.OK


def _size(size: int | None) -> str:
    size = float(size or 0)
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return ""

