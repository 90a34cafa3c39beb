"""One calculation of a file-based code: a calculator built for a fresh folder, the code's
thread settings while it runs, and on failure an error that says where the files are and
what the code wrote last."""

from __future__ import annotations

import os
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

from wflcli.calculators.codes import CODES, RunSetup
from wflcli.calculators.overrides import check_config_text
from wflcli.calculators.scratch import new_folder, output_tail, prune, short_alias
from wflcli.calculators.spec import CalcSpec
from wflcli.errors import WflError
from wflcli.thread_variables import THREAD_VARIABLES


class ProgramMissing(WflError):
    """A code's program is not installed here (or its WFL_<CODE>_COMMAND is wrong)."""


class CodeRunFailed(RuntimeError):
    """A code's run failed; ``details`` (its folder, its last output) go to wfl_error."""

    def __init__(self, message: str, details: dict):
        super().__init__(message)
        self.details = details


@dataclass(frozen=True)
class FolderPolicy:
    scratch: str       # where the config folders go
    keep: str          # none | outputs | all
    threads: int       # per calculation


def is_file_based(spec: CalcSpec) -> bool:
    return spec.name in CODES


def check_program(spec: CalcSpec) -> None:
    """Before a local run: the code's program must be there (a usage error otherwise)."""
    code = CODES[spec.name]
    missing = code.missing_program(code.command(periodic=True, threads=1))
    if missing:
        raise ProgramMissing(missing)


@contextmanager
def code_calculator(spec: CalcSpec, parameters: dict, atoms, index: int,
                    policy: FolderPolicy):
    """Yield a calculator that runs in its own new folder, and the config to give it;
    prune the folder afterwards."""
    code = CODES[spec.name]
    check_config_text(code.name, atoms)
    periodic = bool(atoms.pbc.all())
    given = code.as_run(atoms)
    command = code.command(periodic, policy.threads)
    missing = code.missing_program(command)  # remotely, the CLI could not check it
    if missing:
        raise FileNotFoundError(missing)
    folder = new_folder(policy.scratch, index)
    with ExitStack() as stack:
        where = stack.enter_context(short_alias(folder)) if code.short_paths else str(folder)
        setup = RunSetup(command, policy.threads, periodic, where)
        try:
            calculator = spec.build(code.configure(parameters, setup) | {"directory": where})
            if code.finish is not None:
                code.finish(calculator, parameters)
        except Exception:
            prune(folder, "none", ())  # nothing ran: no folder to keep
            raise
        if hasattr(calculator, "close"):  # CP2K keeps a shell process
            stack.callback(calculator.close)
        try:
            with _thread_settings(policy.threads):
                yield calculator, given
        except Exception as exc:
            raise CodeRunFailed(f"{code.name} failed ({type(exc).__name__}: {exc}); "
                                f"its files are kept in {folder}",
                                {"folder": str(folder),
                                 "output_tail": output_tail(folder, code.log)}) from exc
    prune(folder, policy.keep, code.keep)


@contextmanager
def _thread_settings(threads: int):
    saved = {name: os.environ.get(name) for name in THREAD_VARIABLES}
    os.environ.update({name: str(threads) for name in THREAD_VARIABLES})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
