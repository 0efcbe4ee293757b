#!/usr/bin/env bash
# Session 5, call D (~4 min): compute-sanitizer memcheck over every kernel family at small, awkward
# shapes, with the backward that reads its query ranges from the forward's tile map in-kernel and
# the eager autograd path (gpu_checks.py --small: default forward and the forced fix-up variant).
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 400:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s5d.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 330 compute-sanitizer --tool memcheck --error-exitcode 9 python3 benchmarks/gpu_checks.py --small --default-config-only
echo "compute-sanitizer exit status $?"
