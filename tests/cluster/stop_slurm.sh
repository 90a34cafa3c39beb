#!/usr/bin/env bash
source "$(dirname "$0")/common.sh"
stop_pidfile "$WORK/slurm/run/slurmd.pid" slurmd
stop_pidfile "$WORK/slurm/run/slurmctld.pid" slurmctld
stop_pidfile "$WORK/slurm/run/slurmdbd.pid" slurmdbd
stop_pidfile "$WORK/slurm/mariadb/mariadb.pid" mariadbd
