#!/usr/bin/env bash
# Install the programs the tests run for real: Debian's NWChem and CP2K, and the shells
# whose TAB completion is tested (zsh, fish). Needs root (apt-get); safe to run again.
# Without them those tests skip, saying why.
set -euo pipefail
missing=()
command -v nwchem >/dev/null || missing+=(nwchem)
command -v cp2k_shell >/dev/null || missing+=(cp2k)
command -v zsh >/dev/null || missing+=(zsh)
command -v fish >/dev/null || missing+=(fish)
if ((${#missing[@]})); then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "[install_codes] $(command -v nwchem) $(command -v cp2k_shell)" >&2
