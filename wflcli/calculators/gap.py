"""A GAP model's own check: the XML names its sparse-point files, which GAP reads from the
XML's folder when each worker loads the model; one that is missing is said before any
work, not as quippy's error in every worker."""

from __future__ import annotations

import os

from wflcli.calculators.spec_error import SPEC, CalcSpecError
from wflcli.usercode.fingerprint import xml_named_files


def checked_parameters(params: dict) -> dict:
    """The parameters unchanged, once every file the model names is there."""
    model = params.get("param_filename")
    if not model:
        raise CalcSpecError(SPEC, "needs a model file: gap:GAP.xml", "gap", " ")
    folder = os.path.dirname(os.path.abspath(model))
    try:
        named = xml_named_files(model)
    except OSError as exc:
        raise CalcSpecError(SPEC, f"cannot read {model} ({exc.strerror})", "gap") from None
    for name in named:
        if not os.path.isfile(os.path.join(folder, name)):
            raise CalcSpecError(SPEC, f"{model} names {name} which is missing (it must lie "
                                "beside the XML)", "gap")
    return params
