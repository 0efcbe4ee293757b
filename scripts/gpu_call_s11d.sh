#!/usr/bin/env bash
# Session 11, call D: the forward's gather launch with num_stages 2/3 (16k and 32k, checks at 4k
# and 16k), and the backward's parts with the listed kernels at 2 stages (16k).
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 500:
#     bash scripts/gpu_run.sh bash scripts/gpu_call_s11d.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 260 python3 benchmarks/gpu_attention_subset.py --out "$OUT" --ns 16384,32768 --budget 90 \
    --configs "subset 64x64/4w,subset gather 2 stages,subset gather 3 stages,subset gather 2 stages unroll 2,subset gather 2 stages unroll 8"
echo "subset exit status $?"
timeout 150 python3 benchmarks/gpu_listed_bwd.py --points 16384 --skip-accuracy --determinism 0 --out "$OUT/listed.json"
echo "listed exit status $?"
