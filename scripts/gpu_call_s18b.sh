#!/usr/bin/env bash
# Session 18, call B: sweep 1's QKᵀ for the next tile issued before this tile's insertion (SKEW, by
# hand), in the stand-alone probe kernel (benchmarks/gpu_sweep1_floor.py), against the plain loop.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 300:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s18b.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 200 python3 benchmarks/gpu_sweep1_floor.py --out "$OUT" --ns 4096,16384 --budget 190 --no-product \
    --tiles 64x64x4x3,128x64x8x3,64x64x4x2 --pieces 0:0:0,0:0:0:1,4:0:0,4:0:0:1,4:2:0,4:2:0:1
echo "floor exit status $?"
