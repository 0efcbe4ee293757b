#!/usr/bin/env bash
# Session 8, call E (~4 min): GATHER only in programs where most rows had a near key in every
# probe tile, and the gather launch's loops issuing GATHER_UNROLL row loads per step: kernel
# timeline and forward timings at 16k/32k rand/local against the dense output sweep.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 500:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s8e.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
for kind in rand local; do
  timeout 90 python3 benchmarks/gpu_fixup_profile.py --gather --kind $kind --n 16384 2>&1 | grep "\[prof\]" | grep -v "stages"
done
timeout 330 python3 benchmarks/gpu_attention_subset.py --out "$OUT" --ns 16384,32768 --budget 200 \
    --configs "subset 64x64/4w,subset gather unroll 1,subset gather unroll 8,subset gather 32 rows unroll 8,subset dense output"
echo "subset exit status $?"
