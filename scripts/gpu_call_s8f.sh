#!/usr/bin/env bash
# Session 8, call F (~3 min): GATHER's probe counted in the probe tiles only (call E counted it in
# every checked tile: 'local' paid a second reduction per tile), kernel timeline and forward at
# 16k/32k rand/local against the dense output sweep; the 16k forward's determinism.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 400:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s8f.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 60 python3 benchmarks/gpu_checks.py --fwd-determinism 5
echo "fwd determinism exit status $?"
for kind in rand local; do
  timeout 90 python3 benchmarks/gpu_fixup_profile.py --gather --kind $kind --n 16384 2>&1 | grep "\[prof\]" | grep -v "stages"
done
timeout 200 python3 benchmarks/gpu_attention_subset.py --out "$OUT" --ns 16384,32768 --budget 120 \
    --configs "subset 64x64/4w,subset dense output" --skip-check
echo "subset exit status $?"
