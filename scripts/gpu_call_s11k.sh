#!/usr/bin/env bash
# Session 11, call K: compute-sanitizer memcheck over the small fix-up / gather cases, which train
# through the lists (the new pack, dK/dV and dQ kernels, the dZ handoff, the int16 bins).
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 240:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s11k.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 200 compute-sanitizer --tool memcheck python3 benchmarks/gpu_checks.py --small --fixup-only 2>&1 | tail -16
echo "sanitizer exit status ${PIPESTATUS[0]}"
