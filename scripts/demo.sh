#!/usr/bin/env bash
# The demo: install, then run the MLIP workflow example (examples/mlip: SMILES -> xTB MD ->
# filter -> SOAP + CUR -> xTB labels -> GAP fit -> errors and parity plot) on the local
# executor, with its store in demo-output/.wflcli. Files go to demo-output/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
mkdir -p demo-output
cp examples/mlip/Makefile examples/mlip/molecules.smi demo-output/
make -C demo-output -j2 all errors.json
echo "--- test-set errors of the GAP (demo-output/errors.txt; parity plot: demo-output/parity.png)"
cat demo-output/errors.txt
wfl count demo-output/ref_train.xyz
