#!/usr/bin/env bash
# Session 6, call A (~5 min): results through the cached compiled-kernel handles (launch.py) over
# alternating layouts / alignments / dtypes; the second-largest evicted key's certificate
# (SUBSET_EVICT2) against the old one, with the fix-up launch and in the tile, checks and timings at
# 4k/16k/32k rand/local; host time per piece of a call.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 600:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s6a.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 120 python3 benchmarks/gpu_checks.py --launch
echo "launch checks exit status $?"
timeout 330 python3 benchmarks/gpu_attention_subset.py --out "$OUT" --ns 4096,16384,32768 --budget 230 \
    --configs "subset 64x64/4w,subset evict1,subset in-kernel refinement,subset evict1 in-kernel,subset top-3,subset top-3 in-kernel,profile: no refinement"
echo "subset exit status $?"
timeout 60 python3 benchmarks/gpu_host_breakdown.py --out "$OUT" 2>&1 | grep "^\[host\] [a-z]"
echo "host exit status $?"
