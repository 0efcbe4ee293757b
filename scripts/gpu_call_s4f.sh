#!/usr/bin/env bash
# Session 4, call F (~6 min): compute-sanitizer memcheck over the small runs with the new default
# forward ("subset", tile map, backward ranges) and a forced fix-up pass (one candidate per
# position, fix-up launch at any length), issue #3's sanitizer requirement for the new kernels.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 560:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s4f.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 500 compute-sanitizer --tool memcheck --error-exitcode 9 python3 benchmarks/gpu_checks.py --small --default-config-only
echo "compute-sanitizer exit status $?"
