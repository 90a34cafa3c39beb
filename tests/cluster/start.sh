#!/usr/bin/env bash
# Start the whole test cluster: sshd on 127.0.0.1:2222, SLURM and Grid Engine on localhost.
# Needs root (installs Debian packages when missing). Idempotent; CI runs it before the tests.
set -euo pipefail
cd "$(dirname "$0")"
./start_sshd.sh
./start_slurm.sh
./start_sge.sh
