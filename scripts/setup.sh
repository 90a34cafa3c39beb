#!/usr/bin/env bash
# Create .venv (if needed) and install wflcli into it with every extra and the test tools.
# Sourced by demo.sh and test.sh; safe to run again (pip skips what is already there).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
# torch first, pinned to the CPU build these machines keep on disk (/opt/wheels): mace-torch
# (in .[all]) asks only for some torch, and an open range would pull a multi-GB CUDA build.
# Where a GPU build is wanted, set WFL_TORCH (e.g. WFL_TORCH=torch to take the newest).
.venv/bin/python -m pip install --quiet --disable-pip-version-check "${WFL_TORCH:-torch==2.13.0}"
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[all,test]"
