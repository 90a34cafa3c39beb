#!/usr/bin/env bash
# Install the electronic-structure codes the tests run for real (Debian's NWChem and CP2K).
# Needs root (apt-get); safe to run again. Without them those tests skip, saying why.
set -euo pipefail
missing=()
command -v nwchem >/dev/null || missing+=(nwchem)
command -v cp2k_shell >/dev/null || missing+=(cp2k)
if ((${#missing[@]})); then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "[install_codes] $(command -v nwchem) $(command -v cp2k_shell)" >&2
