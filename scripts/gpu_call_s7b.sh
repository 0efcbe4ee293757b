#!/usr/bin/env bash
# Session 7, call B (~6 min): the direct launch (launch.DIRECT: the handle's C launcher, pointers as
# addresses) checked against float64 over alternating layouts and timed per piece of host time;
# sweep 1's near-key check that stops after 8 dense tiles (SUBSET_NEAR_PATIENCE) against always
# checking, forward at 4k/16k/32k rand/local.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 600:
#     bash scripts/gpu_run.sh bash scripts/gpu_call_s7b.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 150 python3 benchmarks/gpu_checks.py --launch
echo "launch checks exit status $?"
timeout 80 python3 benchmarks/gpu_host_breakdown.py --out "$OUT" 2>&1 | grep "^\[host\] [a-z]"
echo "host exit status $?"
timeout 300 python3 benchmarks/gpu_attention_subset.py --out "$OUT" --ns 4096,16384,32768 --budget 220 \
    --configs "subset 64x64/4w,subset near check always,profile: sweep 1 only,profile: sweep 1 near check always"
echo "subset exit status $?"
