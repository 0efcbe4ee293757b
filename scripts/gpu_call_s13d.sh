#!/usr/bin/env bash
# Session 13, call D: the decode path after its host trim (cached launches keyed on stride
# specialisation, the row-wise kernel through a cached handle, one workspace per step, τ from the
# largest weight): correctness, timings against the fused kernel and SDPA (with growing caches at
# 32k), and timelines.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 600:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s13d.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 120 python3 benchmarks/gpu_decode.py --check --check-lengths 1024,1500,5000,20000
echo "check exit status $?"
timeout 260 python3 benchmarks/gpu_decode.py --variants "MAX_ROWS=0" --out "$OUT"
echo "decode exit status $?"
timeout 90 python3 benchmarks/gpu_timeline.py --out "$OUT" \
    --cases "decode:2x16x16x1:1024;decode:2x16x16x1:4096;decode:2x16x16x1:32768;decode:8x32x8x4:32768"
echo "timeline exit status $?"
