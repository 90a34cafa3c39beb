#!/bin/sh
# Stands in for a code that cannot be installed here (QE, ORCA, VASP, CASTEP, FHI-aims):
# records how it was called, then gives back captured outputs of the real code, or fails.
#   WFL_CAPTURED        a file printed on stdout (where the code's stdout goes)
#   WFL_CAPTURED_FILES  "SOURCE=NAME ..." files copied into the folder as NAME
printf '%s\n' "$(basename "$0") $*" > standin-argv.txt
env | grep -E '^(OMP|MKL|OPENBLAS)_NUM_THREADS=' | sort > standin-env.txt
if [ -z "$WFL_CAPTURED$WFL_CAPTURED_FILES" ]; then
    echo "stand-in: no captured output to give back" | tee /dev/stderr
    exit 1
fi
for pair in $WFL_CAPTURED_FILES; do cp "${pair%%=*}" "${pair#*=}" || exit 1; done
if [ -n "$WFL_CAPTURED" ]; then cat "$WFL_CAPTURED"; fi
