#!/usr/bin/env bash
# Session 13, call E: the decode path with 4096 output programs and a combine program per row,
# against 1024 programs (the call D setting), the fused kernel (MAX_ROWS=0) and SDPA; 2k keys for
# the crossover; timelines.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 600:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s13e.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 300 python3 benchmarks/gpu_decode.py --lengths 1024,2048,4096,32768,131072 \
    --variants "TARGET_PROGRAMS=1024;MAX_ROWS=0" --out "$OUT"
echo "decode exit status $?"
timeout 90 python3 benchmarks/gpu_timeline.py --out "$OUT" \
    --cases "decode:2x16x16x1:4096;decode:2x16x16x1:32768;decode:8x32x8x4:32768"
echo "timeline exit status $?"
