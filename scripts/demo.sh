#!/usr/bin/env bash
# The demo: install, then a small pipeline on the embedded defaults (local executor, the
# store in ./.wflcli-demo). Writes its files to ./demo-output/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
export WFLCLI_HOME="$PWD/.wflcli-demo"
mkdir -p demo-output
cd demo-output
set -x
python - > cells.xyz <<'PY'
# 40 rattled 32-atom Cu cells (a later verb, `wfl rattle`, will make these)
import sys
from ase.build import bulk
from wflcli.io.writer import format_config
for i in range(40):
    atoms = bulk("Cu", "fcc", a=3.61, cubic=True) * (2, 2, 2)
    atoms.rattle(0.05, seed=i)
    sys.stdout.write(format_config(atoms))
PY
wfl --parallel 2 calc --calc emt --prefix REF_ cells.xyz \
  | wfl calc --calc lj:sigma=2.33,epsilon=0.4,rc=6 --prefix LJ_ -o labelled.xyz
{ set +x; } 2>/dev/null
python - <<'PY'
import ase.io, numpy as np
configs = ase.io.read("labelled.xyz", ":")
ref = np.array([a.info["REF_energy"] / len(a) for a in configs])
lj = np.array([a.info["LJ_energy"] / len(a) for a in configs])
fref = np.concatenate([a.arrays["REF_forces"].ravel() for a in configs])
flj = np.concatenate([a.arrays["LJ_forces"].ravel() for a in configs])
print(f"{len(configs)} configs labelled with EMT (REF_) and Lennard-Jones (LJ_)")
print(f"EMT energy/atom: mean {ref.mean():.4f} eV, spread {ref.std() * 1000:.2f} meV")
print(f"LJ vs EMT: energy/atom offset {np.mean(lj - ref):.4f} eV, "
      f"force RMSE {np.sqrt(np.mean((flj - fref) ** 2)):.3f} eV/A")
PY
echo "demo finished: demo-output/labelled.xyz"
