#!/usr/bin/env bash
# A one-node SLURM (munge auth, MariaDB + slurmdbd for sacct) on this machine, no systemd.
# The config sits at the default path so that sbatch in an SSH session needs nothing set.
# Idempotent: a changed slurm.conf restarts the daemons with their saved state, so jobs
# that other tests have queued or running survive it.
set -euo pipefail
source "$(dirname "$0")/common.sh"
D=$WORK/slurm
command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v munged >/dev/null \
  && command -v slurmdbd >/dev/null && command -v mariadbd >/dev/null \
  || apt_install slurmctld slurmd slurm-client munge slurmdbd mariadb-server
mkdir -p "$D"/{ctld,d,log,run}

install -d -o munge -g munge -m 700 /etc/munge /var/lib/munge /var/log/munge
install -d -o munge -g munge -m 755 /run/munge
[[ -s /etc/munge/munge.key ]] || head -c 1024 /dev/urandom > /etc/munge/munge.key
chown munge:munge /etc/munge/munge.key; chmod 400 /etc/munge/munge.key
munge_ok() { munge -n | unmunge; }
if ! munge_ok >/dev/null 2>&1; then
  rm -f /run/munge/munged.pid /run/munge/munge.socket.2*
  runuser -u munge -- /usr/sbin/munged
  wait_for 50 munge_ok >/dev/null
fi

mkdir -p /etc/slurm
MEM=$(awk '/MemTotal/ {printf "%d", $2 / 1024 * 0.9}' /proc/meminfo)
cat > "$D/slurm.conf" <<CONF
ClusterName=wflcli-test
SlurmctldHost=localhost
SlurmUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStoragePort=6819
# no cgroups under gVisor: memory is sampled every second and a task over --mem is killed
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=task=1
JobAcctGatherParams=OverMemoryKill
JobCompType=jobcomp/filetxt
JobCompLoc=$D/log/jobcomp.txt
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# without a default memory per CPU one job takes the whole node
DefMemPerCPU=512
SchedulerType=sched/backfill
# the default 3 s delay would hold every job after the first
SchedulerParameters=batch_sched_delay=0
ReturnToService=2
StateSaveLocation=$D/ctld
SlurmdSpoolDir=$D/d
SlurmctldPidFile=$D/run/slurmctld.pid
SlurmdPidFile=$D/run/slurmd.pid
SlurmctldLogFile=$D/log/slurmctld.log
SlurmdLogFile=$D/log/slurmd.log
MinJobAge=300
MaxArraySize=1001
KillWait=2
InactiveLimit=0
NodeName=localhost NodeHostname=localhost NodeAddr=127.0.0.1 CPUs=$(getconf _NPROCESSORS_ONLN) RealMemory=$MEM State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
changed=0
cmp -s "$D/slurm.conf" /etc/slurm/slurm.conf || { cp "$D/slurm.conf" /etc/slurm/slurm.conf; changed=1; }
"$(dirname "$0")/start_slurmdbd.sh"  # sacctmgr there reads the slurm.conf just written

ping_ok() { [[ $(scontrol ping) == *UP* ]]; }
if [[ $changed == 1 ]]; then  # accounting and gathering plugins load only at start
  stop_pidfile "$D/run/slurmd.pid" slurmd
  stop_pidfile "$D/run/slurmctld.pid" slurmctld
fi
if ! alive "$D/run/slurmctld.pid"; then
  /usr/sbin/slurmctld -f /etc/slurm/slurm.conf
  log "slurmctld started"
fi
wait_for 100 ping_ok
alive "$D/run/slurmd.pid" || { /usr/sbin/slurmd -N localhost -f /etc/slurm/slurm.conf; log "slurmd started"; }
node_ok() { [[ $(sinfo -h -n localhost -o %T) =~ ^(idle|mixed|allocated)$ ]]; }
if ! wait_for 150 node_ok; then
  scontrol update NodeName=localhost State=RESUME || true
  wait_for 25 node_ok
fi
