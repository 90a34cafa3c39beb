#!/usr/bin/env bash
source "$(dirname "$0")/common.sh"
stop_pidfile /var/run/gridengine/execd.pid sge_execd
stop_pidfile /var/spool/gridengine/qmaster/qmaster.pid sge_qmaster
