#!/bin/sh
# Stands in for a code that cannot be installed here (QE, ORCA, VASP, CASTEP, FHI-aims):
# records how it was called, then gives back a captured output of the real code, or fails.
printf '%s\n' "$(basename "$0") $*" > standin-argv.txt
env | grep -E '^(OMP|MKL|OPENBLAS)_NUM_THREADS=' | sort > standin-env.txt
if [ -z "$WFL_CAPTURED" ]; then
    echo "stand-in: no captured output to give back" | tee /dev/stderr
    exit 1
fi
if [ -n "$WFL_CAPTURED_AS" ]; then cp "$WFL_CAPTURED" "$WFL_CAPTURED_AS"; else cat "$WFL_CAPTURED"; fi
