#!/usr/bin/env bash
# Session 13, call A: compute-sanitizer memcheck of the fix-up beside the gather launch (side stream,
# session 12), over the small fix-up / gather cases; then decode steps (Lq = 1 and 4 against long
# KV caches) through the fused kernel, against SDPA.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 600:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s13a.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 240 compute-sanitizer --tool memcheck python3 benchmarks/gpu_checks.py --small --fixup-only 2>&1 | tail -16
echo "sanitizer exit status ${PIPESTATUS[0]}"
timeout 240 python3 benchmarks/gpu_decode.py --out "$OUT"
echo "decode exit status $?"
