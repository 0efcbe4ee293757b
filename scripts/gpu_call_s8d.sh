#!/usr/bin/env bash
# Session 8, call D (~4 min): GATHER only in programs whose rows are dense after the near-key
# probe (they start their candidates over, packed; sparse rows keep exact candidates and the
# dense output sweep), from 16k keys: checks against float64, the 16k forward's determinism, the
# kernel timeline and forward timings at 16k/32k rand/local against the dense output sweep.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 500:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s8d.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 60 python3 benchmarks/gpu_checks.py --fwd-determinism 5
echo "fwd determinism exit status $?"
for kind in rand local; do
  timeout 90 python3 benchmarks/gpu_fixup_profile.py --gather --kind $kind --n 16384 2>&1 | grep "\[prof\]" | grep -v "stages"
done
timeout 300 python3 benchmarks/gpu_attention_subset.py --out "$OUT" --ns 16384,32768 --budget 150 \
    --configs "subset 64x64/4w,subset dense output"
echo "subset exit status $?"
