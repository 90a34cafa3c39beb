#!/usr/bin/env bash
source "$(dirname "$0")/common.sh"
stop_pidfile "$WORK/slurm/run/slurmd.pid" slurmd
stop_pidfile "$WORK/slurm/run/slurmctld.pid" slurmctld
