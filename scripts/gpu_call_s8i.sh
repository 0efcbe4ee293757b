#!/usr/bin/env bash
# Session 8, call I (~2 min): compute-sanitizer memcheck over the small forward+backward cases with
# the fix-up launch and with GATHER (the gather launch, its lists and tile map) at any length.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 300:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s8i.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 280 compute-sanitizer --tool memcheck python3 benchmarks/gpu_checks.py --small --fixup-only 2>&1 | tail -16
echo "sanitizer exit status ${PIPESTATUS[0]}"
