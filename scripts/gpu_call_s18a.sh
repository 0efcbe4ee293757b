#!/usr/bin/env bash
# Session 18, call A: sweep 1's top-4 insertion with fp16x2 candidates (x − ref, two per
# max.f16x2 / min.f16x2) against the fp32 insertion, in the stand-alone probe kernel
# (benchmarks/gpu_sweep1_floor.py), beside cuDNN's forward and the product's sweep 1.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 400:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s18a.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 300 python3 benchmarks/gpu_sweep1_floor.py --out "$OUT" --ns 4096,16384 --budget 280 \
    --tiles 64x64x4x3,128x64x8x3,64x128x8x3 --pieces 0:0:0,4:0:0,4:2:0,4:0:1,4:1:1,4:2:1
echo "floor exit status $?"
