#!/usr/bin/env bash
# Session 14, call D: the forward's tile config and candidate count at 4k (the default table was
# measured at 16k), inference and training, with the output's error against float64.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 480:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s14d.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 450 python3 benchmarks/gpu_fwd_configs.py --points 4096:rand,4096:local \
    --variants "64x64x4x3;64x64x4x2;64x64x4x4;32x64x4x3;32x64x2x3;128x64x8x3;64x64x4x3:topk5;64x64x4x3:topk3"
echo "configs exit status $?"
