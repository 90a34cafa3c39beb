#!/usr/bin/env bash
# The same workflow as the Makefile, as a plain shell script (no rerun logic).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
WFL=${WFL:-wfl}
export WFLCLI_HOME=${WFLCLI_HOME:-$PWD/.wflcli}

$WFL -q atoms H C N O | $WFL -q calc --calc tblite --prefix REF_ -o isolated.xyz
$WFL -q smiles -i molecules.smi \
  | $WFL -q md --calc tblite --ensemble langevin -T 300 --friction 0.02 --timestep 0.5 \
      --steps 600 --every 10 --max-temperature 2000 \
  | $WFL -q filter 'max(norm(tblite_forces)) < 5' \
  | $WFL -q select-cur -n 12 --by smiles --species H,C,N,O --cutoff 4 -o selected.xyz
$WFL -q split --fraction 0.75 --by smiles --train train.xyz --test test.xyz selected.xyz
$WFL -q calc --calc tblite --prefix REF_ train.xyz -o ref_train.xyz
$WFL -q calc --calc tblite --prefix REF_ test.xyz -o ref_test.xyz
$WFL -q fit-gap ref_train.xyz isolated.xyz --ref REF_ --sigma 0.005,0.1,0.1,0 \
  --gap 'distance_2b cutoff=4.0 covariance_type=ard_se delta=0.5 theta_uniform=1.0 sparse_method=uniform n_sparse=15' \
  --gap 'soap cutoff=4.0 l_max=4 n_max=6 atom_sigma=0.5 delta=0.2 zeta=4 covariance_type=dot_product sparse_method=cur_points n_sparse=200' \
  -o GAP.xml
$WFL -q calc --calc gap:GAP.xml --prefix GAP_ ref_test.xyz -o pred_test.xyz
$WFL error --ref REF_ --pred GAP_ --by smiles pred_test.xyz --plot parity.png
