"""Commands run in this process as if on a terminal (cli/environment.py says which streams
count as terminals), and what a terminal would show of the bytes written to it: for the
terminal-only paths (progress, the rich table, prompts) without a pseudo-terminal."""

from __future__ import annotations

import re
from dataclasses import dataclass

from click.testing import CliRunner

from wflcli.cli.environment import Environment
from wflcli.cli.main import run

_CONTROL = re.compile(r"\x1b\[([0-9;?]*)([A-Za-z])|\x1b[\]P][^\x07\x1b]*(?:\x07|\x1b\\)|"
                      r"\x1b[()=>][0-9A-Za-z]?|[\r\n\b]")


@dataclass
class Shown:
    code: int
    stdout: str      # as written (a terminal's stdout: escape sequences kept)
    stderr: str      # as written
    screen: list     # the lines a terminal shows at the end of stderr (see on_screen)


def in_terminal(*args: str, input: bytes | str | None = None,
                terminal=("stderr",)) -> Shown:
    """Run ``wfl ARGS`` here with ``terminal`` streams taken for terminals."""
    flags = {f"{name}_isatty": True for name in terminal}
    with CliRunner().isolation(input=input) as (out, err, _):
        code = run([str(a) for a in args], Environment.of_process(**flags))
    stderr = err.getvalue().decode()
    return Shown(code, out.getvalue().decode(), stderr, on_screen(stderr))


def on_screen(text: str) -> list[str]:
    """The lines left on a terminal by ``text``: carriage returns, line erasing and cursor
    moves up applied, colours dropped (what rich's live display uses)."""
    lines, row, column = [""], 0, 0
    position = 0
    for match in _CONTROL.finditer(text):
        row, column = _put(lines, row, column, text[position:match.start()])
        position = match.end()
        token = match.group(0)
        if token == "\r":
            column = 0
        elif token == "\n":
            row, column = row + 1, 0
            lines.extend([""] * (row + 1 - len(lines)))
        elif token == "\b":
            column = max(0, column - 1)
        elif match.group(2) == "K":  # erase: whole line (2), or to its end (0)
            lines[row] = "" if match.group(1) == "2" else lines[row][:column]
        elif match.group(2) == "A":
            row = max(0, row - int(match.group(1) or 1))
    _put(lines, row, column, text[position:])
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _put(lines: list[str], row: int, column: int, text: str) -> tuple[int, int]:
    line = lines[row].ljust(column)
    lines[row] = line[:column] + text + line[column + len(text):]
    return row, column + len(text)


def read_until(shell, pattern: str, timeout: float = 240) -> str:
    """What a pseudo-terminal shell (helpers_pty.Shell) printed until ``pattern`` shows,
    escape sequences kept (``on_screen`` applies them)."""
    import os
    import select
    import time

    chunks, start = [], time.monotonic()
    while time.monotonic() - start < timeout:
        if re.search(pattern, b"".join(chunks).decode(errors="replace")):
            break
        ready, _, _ = select.select([shell.fd_parent], [], [], 0.2)
        if ready:
            try:
                chunks.append(os.read(shell.fd_parent, 65536))
            except OSError:
                break
    return b"".join(chunks).decode(errors="replace")
