#!/usr/bin/env bash
# A one-host Son of Grid Engine (Debian's gridengine 8.1.9) with no systemd: qmaster and
# execd on localhost, one queue all.q with a parallel environment smp, root jobs allowed,
# scheduling and accounting every second. Idempotent.
set -euo pipefail
source "$(dirname "$0")/common.sh"
D=$WORK/sge
export SGE_ROOT=/var/lib/gridengine SGE_CELL=default
COMMON=$SGE_ROOT/$SGE_CELL/common
mkdir -p "$D"
if ! [[ -x /usr/sbin/sge_qmaster && -x /usr/sbin/sge_execd ]]; then
  for pkg in common master exec client; do
    printf 'gridengine-%s shared/%s %s %s\n' \
      "$pkg" gridengineconfig boolean true "$pkg" gridenginecell string default \
      "$pkg" gridenginemaster string localhost | debconf-set-selections
  done
  apt_install gridengine-master gridengine-exec gridengine-client
fi
[[ -f $COMMON/bootstrap ]] || { log "no cell at $COMMON"; exit 1; }
# Grid Engine resolves 127.0.0.1 to "localhost"; the host calls itself $(hostname): alias them
echo "localhost $(hostname)" > "$COMMON/host_aliases"
echo localhost > "$COMMON/act_qmaster"
install -d -o sgeadmin -g sgeadmin /var/run/gridengine
QPID=/var/spool/gridengine/qmaster/qmaster.pid EPID=/var/run/gridengine/execd.pid
alive $QPID || { rm -f $QPID; SGE_MASTER_PIDFILE=$QPID /usr/sbin/sge_qmaster; log "qmaster started"; }
wait_for 100 qstat

cd "$D"
if qconf -sconf global | grep -qE '^min_uid +[1-9]'; then
  qconf -sconf global | sed -e 's/^min_uid .*/min_uid 0/' -e 's/^min_gid .*/min_gid 0/' \
    -e 's/flush_time=[0-9:]*/flush_time=00:00:01/' > global
  qconf -Mconf global >/dev/null  # the file name must be the configuration's name
fi
if ! qconf -ssconf | grep -qE '^schedule_interval +0:0:1$'; then
  qconf -ssconf | sed -e 's/^schedule_interval .*/schedule_interval 0:0:1/' \
    -e 's/^flush_submit_sec .*/flush_submit_sec 1/' -e 's/^flush_finish_sec .*/flush_finish_sec 1/' \
    > sched.conf
  qconf -Msconf sched.conf >/dev/null
fi
qconf -ss 2>/dev/null | grep -qx localhost || qconf -as localhost >/dev/null
if ! qconf -shgrpl 2>/dev/null | grep -qx @allhosts; then
  printf 'group_name @allhosts\nhostlist localhost\n' > allhosts; qconf -Ahgrp allhosts >/dev/null
fi
if ! qconf -spl 2>/dev/null | grep -qx smp; then
  printf '%s\n' 'pe_name smp' 'slots 999' 'user_lists NONE' 'xuser_lists NONE' \
    'start_proc_args NONE' 'stop_proc_args NONE' 'allocation_rule $pe_slots' \
    'control_slaves TRUE' 'job_is_first_task TRUE' 'urgency_slots min' \
    'accounting_summary FALSE' 'qsort_args NONE' > smp
  qconf -Ap smp >/dev/null
fi
if ! qconf -sql 2>/dev/null | grep -qx all.q; then
  # every limit INFINITY, no load threshold (gVisor reports a load of ~2 when idle)
  { printf '%s\n' 'qname all.q' 'hostlist @allhosts' 'seq_no 0' 'load_thresholds NONE' \
      'suspend_thresholds NONE' 'nsuspend 1' 'suspend_interval 00:05:00' 'priority 0' \
      'min_cpu_interval 00:05:00' 'processors UNDEFINED' 'qtype BATCH INTERACTIVE' \
      'ckpt_list NONE' 'pe_list smp' 'rerun FALSE' "slots $(getconf _NPROCESSORS_ONLN)" 'tmpdir /tmp' \
      'shell /bin/bash' 'prolog NONE' 'epilog NONE' 'shell_start_mode posix_compliant' \
      'starter_method NONE' 'suspend_method NONE' 'resume_method NONE' \
      'terminate_method NONE' 'notify 00:00:60' 'owner_list NONE' 'user_lists NONE' \
      'xuser_lists NONE' 'subordinate_list NONE' 'complex_values NONE' 'projects NONE' \
      'xprojects NONE' 'calendar NONE' 'initial_state default'
    for limit in rt cpu fsize data stack core rss vmem; do
      printf 's_%s INFINITY\nh_%s INFINITY\n' $limit $limit; done; } > all.q
  qconf -Aq all.q >/dev/null
fi
alive $EPID || { rm -f $EPID; SGE_EXECD_PIDFILE=$EPID /usr/sbin/sge_execd; log "execd started"; }
queue_ok() { qstat -f -q all.q | awk '/^all.q@/ && $6 == "" {ok = 1} END {exit !ok}'; }
wait_for 150 queue_ok
