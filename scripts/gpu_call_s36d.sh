#!/usr/bin/env bash
# Session 36, call D: attention.HEAVY_FIRST (causal launches on a (B·H, row blocks) grid, last row
# block first: every head's heaviest block starts before any head's lighter ones) against the
# (row blocks, B·H) grid, alternated twice; do_bench, forward and forward+backward.
#
#   device run, carry [".whl"], timeout_s 590:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s36d.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 520 python3 benchmarks/gpu_knob_ab.py --err-rows 256 \
    --points 4096:rand,4096:local,16384:rand,16384:local,32768:rand \
    --variants ";HEAVY_FIRST=1;;HEAVY_FIRST=1"
echo "knob_ab exit status $?"
