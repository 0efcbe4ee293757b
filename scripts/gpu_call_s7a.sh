#!/usr/bin/env bash
# Session 7, call A (~6 min): where sweep 1 of the "subset" forward spends its time (a stand-alone
# probe kernel at several tile shapes, benchmarks/gpu_sweep1_floor.py), and the product forward at
# the tile shapes / candidate counts that probe points to, 4k and 16k rand/local.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 600:
#     bash scripts/gpu_run.sh bash scripts/gpu_call_s7a.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 230 python3 benchmarks/gpu_sweep1_floor.py --out "$OUT" --ns 4096,16384 --budget 200
echo "floor exit status $?"
timeout 250 python3 benchmarks/gpu_attention_subset.py --out "$OUT" --ns 4096,16384 --budget 170 \
    --configs "subset 64x64/4w,subset 128x64/8w,subset top-3,subset top-2,subset 128x64/8w top-2,subset 128x128/8w top-2,subset 64x128/4w top-2,profile: sweep 1 only,profile: sweep 1 128x64/8w,profile: sweep 1 no near skip,profile: sweep 1 top-2"
echo "subset exit status $?"
