#!/usr/bin/env bash
# Session 8, call B (~5 min): the gather launch in small programs (GATHER_BLOCK_M query rows,
# GATHER_WARPS warps; call A's 64-row, 8-warp programs held 255 registers, one per SM) against the
# dense output sweep, forward at 4k/16k/32k rand/local, checks against float64 first.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 600:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s8b.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 420 python3 benchmarks/gpu_attention_subset.py --out "$OUT" --ns 4096,16384,32768 --budget 240 \
    --configs "subset 64x64/4w,subset gather 8 warps,subset gather 32 rows 8 warps,subset gather 64 rows 8 warps,subset dense output"
echo "subset exit status $?"
