"""A click group that imports a command's module only when that command is used, so
``wfl --help`` and ``wfl --version`` stay fast and need no optional backend."""

from __future__ import annotations

import importlib

import click


class LazyGroup(click.Group):
    def __init__(self, *args, lazy_commands: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        self.lazy_commands = lazy_commands  # name -> "module:attribute"

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.lazy_commands:
            module_name, attribute = self.lazy_commands[name].split(":")
            return getattr(importlib.import_module(module_name), attribute)
        return super().get_command(ctx, name)

    def resolve_command(self, ctx: click.Context, args: list[str]):
        """Also keep the command's arguments as typed: ``--remote`` sends them on. A
        misspelt verb gets the nearest ones as a suggestion."""
        try:
            name, command, rest = super().resolve_command(ctx, args)
        except click.UsageError as exc:
            import difflib

            close = difflib.get_close_matches(args[0], self.list_commands(ctx), n=3)
            if close and exc.message.startswith("No such command"):
                exc.message += f" Did you mean {' or '.join(map(repr, close))}?"
            raise
        ctx.meta["wfl.verb_args"] = list(rest)
        return name, command, rest
