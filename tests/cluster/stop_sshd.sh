#!/usr/bin/env bash
source "$(dirname "$0")/common.sh"
stop_pidfile "$WORK/sshd/sshd.pid" sshd
