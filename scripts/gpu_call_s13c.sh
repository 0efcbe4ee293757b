#!/usr/bin/env bash
# Session 13, call C: kernel timelines of decode steps (where the decode path's time goes at 1k-32k
# keys, against the fused kernel), with a cProfile of the host side.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 300:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s13c.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 240 python3 benchmarks/gpu_timeline.py --out "$OUT" --cprofile \
    --cases "decode:2x16x16x1:1024;decode:2x16x16x1:4096;decode:2x16x16x1:16384;decode:2x16x16x1:32768;decode:8x32x8x4:32768;decode:2x16x16x1:4096:MAX_ROWS=0"
echo "timeline exit status $?"
