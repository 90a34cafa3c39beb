#!/bin/bash
#SBATCH --job-name=wfl-fit-gap
#SBATCH --array=1-1
#SBATCH --output=slurm-%A_%a.log
#SBATCH --nodes=1
#SBATCH --ntasks=1
#SBATCH --cpus-per-task=4
#SBATCH --time=2:00:00
#SBATCH --mem=8G
#SBATCH --partition=standard
#SBATCH --gpus=1
# wflcli job wfl-fit-gap: 1 task(s)
TASK=${SLURM_ARRAY_TASK_ID:-1}
case $TASK in ""|*[!0-9]*) echo "bad task number: $TASK" >&2; exit 2;; esac
cd '/scratch/me/wfl runs/wfl-20261201-120000-abcdef' || exit 2
wfl --no-cache --seed 0 --parallel 4 --chunk 10 fit-gap --gap 'distance_2b cutoff=4' --output out/1/GAP.xml -- 'in/1/train set.xyz' > "stdout-$TASK.txt" 2> "log-$TASK.txt"
code=$?
find out -mindepth 2 -maxdepth 2 -type f ! -name '*.part' -print0 > "files-$TASK.list" 2>/dev/null
printf '{"task": %s, "exit": %s, "whole": true}\n' "$TASK" "$code" > "status-$TASK.json".part
mv -f "status-$TASK.json".part "status-$TASK.json"
case $code in 0|3) exit 0;; *) exit "$code";; esac
