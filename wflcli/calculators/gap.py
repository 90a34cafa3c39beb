"""A GAP model's own check: the XML names its sparse-point files, which GAP reads from the
XML's folder when each worker loads the model; one that is missing is said before any
work, not as quippy's error in every worker."""

from __future__ import annotations

import os
import re

from wflcli.calculators.spec_error import SPEC, CalcSpecError

# gpCoordinates' attribute: the file beside the XML that holds its sparse points
_NAMED = re.compile(r'\bsparseX_filename="([^"]+)"')


def checked_parameters(params: dict) -> dict:
    """The parameters unchanged, once every file the model names is there."""
    model = params.get("param_filename")
    if not model:
        raise CalcSpecError(SPEC, "needs a model file: gap:GAP.xml", "gap", " ")
    folder = os.path.dirname(os.path.abspath(model))
    for name in named_files(model):
        if not os.path.isfile(os.path.join(folder, name)):
            raise CalcSpecError(SPEC, f"{model} names {name} which is missing (it must lie "
                                "beside the XML)", "gap")
    return params


def named_files(model: str) -> list[str]:
    """The files a GAP XML names, in order, read line by line (models can be large)."""
    names = []
    try:
        with open(model, encoding="utf-8", errors="replace") as stream:
            for line in stream:
                names.extend(name for name in _NAMED.findall(line) if name not in names)
    except OSError as exc:
        raise CalcSpecError(SPEC, f"cannot read {model} ({exc.strerror})", "gap") from None
    return names
