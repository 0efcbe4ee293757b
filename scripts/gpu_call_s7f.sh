#!/usr/bin/env bash
# Session 7, call F (~4 min): compute-sanitizer memcheck of the fix-up launch (looping programs,
# every tile through the masked loop) at small awkward shapes: one candidate per score position and
# the fix-up at any length, so that most rows go through it; masks, GQA, per-head α, decode.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 300:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s7f.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 240 compute-sanitizer --tool memcheck python3 benchmarks/gpu_checks.py --small --fixup-only 2>&1 | tail -12
echo "sanitizer exit status ${PIPESTATUS[0]}"
