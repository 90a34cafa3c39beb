"""What is wrong with a calculator's description, as a fact: which input said it and what
was wrong. The command line words it as the option the user typed (``cli/options.py``); a
config's ``info['wfl_calc']`` is worded by the verb that fails that config."""

from __future__ import annotations

from wflcli.errors import MissingBackend, UsageError

SPEC = "spec"        # the calculator and its key=value parameters
KWARGS = "kwargs"    # the constructor arguments: JSON text, or the file ``subject`` names
ALLOWED = "allowed"  # the parameters a run lets a config set (or a config set another)
CONFIG = "config"    # a config's own parameters, info['wfl_calc']

# how each input is named when no command line words it
_NAMES = {SPEC: "calculator", KWARGS: "constructor arguments",
          ALLOWED: "per-config parameters", CONFIG: "info['wfl_calc']"}


class CalcSpecError(UsageError):
    """``source`` is the input (SPEC, KWARGS, ALLOWED, CONFIG), ``subject`` what in it
    (a calculator's name, the spec's text, a file; may be empty), ``fact`` what was wrong;
    ``joint`` goes between them (" " when the fact reads on: "mace needs a model file")."""

    def __init__(self, source: str, fact: str, subject: str = "", joint: str = ": "):
        self.source, self.fact, self.subject, self.joint = source, fact, subject, joint
        super().__init__(self.worded(_NAMES[source]))

    def worded(self, label: str) -> str:
        """The one line, the input named by ``label`` (an option, a verb, a key)."""
        named = f"{label} {self.subject}" if self.subject else label
        return f"{named}{self.joint}{self.fact}"


class CalcPackageMissing(MissingBackend):
    """A known calculator whose package is not installed (``name``: the calculator)."""

    def __init__(self, name: str, package: str, extra: str):
        self.name, self.package, self.extra = name, package, extra
        super().__init__(package, extra, f"calculator {name}")
