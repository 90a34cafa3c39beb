"""``wfl completion SHELL``: the shell completion script (click's), to source or install."""

from __future__ import annotations

import click
from wflcli.errors import ExitStatus

SHELLS = ("bash", "zsh", "fish")


def completion_script(shell: str) -> str:
    from click.shell_completion import get_completion_class

    from wflcli.cli.complete import register_shells
    from wflcli.cli.main import cli

    register_shells()
    completer = get_completion_class(shell)(cli, {}, "wfl", "_WFL_COMPLETE")
    return completer.source()


@click.command()
@click.argument("shell", type=click.Choice(SHELLS))
def completion(shell):
    """Print the completion script for SHELL.

    \b
    Example:
      wfl completion bash > ~/.local/share/bash-completion/completions/wfl
      eval "$(wfl completion zsh)"        # in ~/.zshrc, after compinit
      wfl completion fish > ~/.config/fish/completions/wfl.fish
    """
    click.echo(completion_script(shell), nl=False)
    return ExitStatus.OK
