#!/usr/bin/env bash
# Session 13, call I: the output kernel reading 8 key blocks' weights at once (OUTPUT_SUB) against 1
# (the loop of calls B-H), 4 and 16: do_bench, accuracy; then the CUDA-graph replays.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 240:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s13i.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 120 python3 benchmarks/gpu_decode.py --lengths 32768,131072 --shapes 2x16x16x1,8x32x8x1,8x32x8x4 \
    --variants "OUTPUT_SUB=1;OUTPUT_SUB=4;OUTPUT_SUB=16" --idle-reps 10 --growing-lk 0 --out "$OUT"
echo "decode exit status $?"
timeout 60 python3 benchmarks/gpu_decode.py --graphs --shapes 2x16x16x1,8x32x8x4 --lengths 4096,32768
echo "graphs exit status $?"
