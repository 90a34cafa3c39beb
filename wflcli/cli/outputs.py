"""Options that name a file a command writes, checked together before anything runs.

Two outputs of one command that are the same regular file (the same path once symlinks,
``./`` and ``..`` are resolved, or the same inode: a hard link) would overwrite each
other: the second rename wins and the first output is lost with exit 0. A repeated output
option would silently keep only the last. Both are usage errors. Every output option is
made here, so each is counted once and compared with the others, the global
``--outcomes`` included (click shares ``ctx.meta`` between a command and its parent).
Devices, pipes and stdout (``-``) are written in place, so two outputs may share one
(``-o /dev/null --failed /dev/null``).

An output may name one of the command's inputs: outputs are written to a temporary file
and renamed when complete, after the input has been read to its end. Only a model that
is not extxyz (``fit-gap -o``) must not replace its training data (``refuse_input``).
"""

from __future__ import annotations

import os
import stat

import click

_CLAIMS = "wfl.outputs"  # ctx.meta key: (flag, path, identities) of each output given


def output_file_option(*param_decls: str, **kwargs):
    """A click option naming one output file (``-`` is stdout), given at most once."""
    kwargs.setdefault("metavar", "FILE")
    kwargs.setdefault("type", click.Path())  # the shell completes file names
    return click.option(*param_decls, multiple=True, callback=_claim, **kwargs)


def refuse_input(flag: str, path: str, inputs) -> None:
    """A usage error if the output ``path`` is one of the input files."""
    identities = _identities(path)
    for source in inputs:
        if identities & _identities(source):
            raise click.UsageError(f"{flag} {path} is the input {source}: writing it would "
                                   "replace the data it is made from")


def regular_file(flag: str, path: str) -> str:
    """The real path of an output that must be a regular file (a model and the files
    written beside it): a symlink is followed; a device or FIFO is a usage error."""
    try:
        status = os.stat(path)
    except OSError:
        status = None
    if status is not None and not stat.S_ISREG(status.st_mode):
        raise click.UsageError(f"{flag} {path}: not a regular file (the files written "
                               "beside it need a folder of their own)")
    return os.path.realpath(path)


def _claim(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]):
    """The one path given (or None); a usage error if given twice or if another output
    of this command is the same file."""
    flag = max(param.opts, key=len)
    if ctx.resilient_parsing:  # completion: no checks
        return values[-1] if values else None
    if len(values) > 1:
        raise click.UsageError(f"{flag} is given {len(values)} times "
                               f"({', '.join(values)}): give it once", ctx)
    if not values:
        return None
    path = values[0]
    identities = _identities(path)
    claims = ctx.meta.setdefault(_CLAIMS, [])
    for other_flag, other_path, other in claims:
        if identities & other:
            raise click.UsageError(f"{other_flag} {other_path} and {flag} {path} are the "
                                   "same file: one output would overwrite the other", ctx)
    claims.append((flag, path, identities))
    return path


def _identities(path: str) -> set:
    """What makes two paths one regular file: the resolved path, and the inode if it
    exists; nothing for stdout, a device or a pipe (written in place, never replaced)."""
    if path == "-":
        return set()
    found = {("path", os.path.realpath(path))}
    try:
        status = os.stat(path)
    except OSError:
        return found
    if not stat.S_ISREG(status.st_mode):
        return set() if not stat.S_ISDIR(status.st_mode) else found
    return found | {("inode", status.st_dev, status.st_ino)}
