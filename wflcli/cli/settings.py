"""Global options (given before the verb), shared by every command through click's context."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Settings:
    parallel: int = 1
    chunk: int = 10
    quiet: bool = False
    verbose: bool = False
    seed: int = 0
    cache: bool = True
    refresh: bool = False
