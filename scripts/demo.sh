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
wfl cat -f cif - > cu.xyz <<'CIF'
data_Cu
_cell_length_a 3.61
_cell_length_b 3.61
_cell_length_c 3.61
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 90
_symmetry_space_group_name_H-M 'F m -3 m'
loop_
_atom_site_label
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
Cu 0 0 0
CIF
wfl optimize --calc emt --cell --fmax 0.001 cu.xyz -o relaxed.xyz
wfl rattle -n 20 --stdev 0.05 --strain 0.02 --supercell 2x2x2 relaxed.xyz > rattled.xyz
wfl rattle --supercell 2x2x2 --stdev 0 relaxed.xyz \
  | wfl md --calc emt --ensemble langevin -T 300:1200 --steps 400 --every 40 > md.xyz
wfl cat rattled.xyz md.xyz | wfl --parallel 2 calc --calc emt --prefix REF_ -o pool.xyz
wfl select-cur -n 20 pool.xyz --cutoff 4 --species Cu --rest rest.xyz -o train.xyz
wfl split --fraction 0.8 --train fit.xyz --test test.xyz train.xyz
{ set +x; } 2>/dev/null
echo "--- the selected training set:"
wfl count train.xyz
echo "--- first configs: source (rattle copy or MD step) and EMT energy per config"
wfl info rattle_copy MD_step REF_energy natoms -i train.xyz | head -6
echo "demo finished: files in demo-output/"
