#!/bin/bash
#SBATCH --job-name=wfl-calc
#SBATCH --array=1-10
#SBATCH --output=slurm-%A_%a.log
#SBATCH --nodes=2
#SBATCH --ntasks-per-node=4
#SBATCH --cpus-per-task=1
#SBATCH --time=2:00:00
#SBATCH --mem=8G
#SBATCH --partition=standard
#SBATCH --account=chem42
#SBATCH --qos=normal
#SBATCH --gpus=1
#SBATCH --signal=B:TERM@60
#EXTRA site line
# wflcli job wfl-calc: 10 task(s)
TASK=${SLURM_ARRAY_TASK_ID:-1}
case $TASK in ""|*[!0-9]*) echo "bad task number: $TASK" >&2; exit 2;; esac
cd '/scratch/me/wfl runs/wfl-20261124-120000-abcdef' || exit 2
export WFL_DEADLINE=$(( $(date +%s) + 7200 ))
export WFL_DRAIN_FILE="$PWD/drain-$TASK"
trap 'touch "$WFL_DRAIN_FILE"' TERM
export WFL_NODES=2 WFL_CORES=8
module load python/3.11
source ~/venvs/wfl/bin/activate
if [ -e "${WFL_DRAIN_FILE:-/nonexistent}" ]; then exit 143; fi
wfl --no-cache -q --outcomes "outcomes-$TASK.jsonl" --positions "positions-$TASK.txt" --seed 0 --parallel 4 --chunk 10 calc --calc emt "chunk-$TASK.xyz" -o "out-$TASK.xyz" --failed "failed-$TASK.xyz" > "log-$TASK.txt" 2>&1 &
pid=$!
while wait "$pid"; code=$?; [ "$code" -gt 128 ] && kill -0 "$pid" 2>/dev/null; do :; done
sum=$(sha256sum "outcomes-$TASK.jsonl" 2>/dev/null | cut -d ' ' -f 1)
printf '{"task": %s, "exit": %s, "sha256": "%s"}\n' "$TASK" "$code" "$sum" > "status-$TASK.json".part
mv -f "status-$TASK.json".part "status-$TASK.json"
case $code in 0|3) exit 0;; *) exit "$code";; esac
