#!/usr/bin/env bash
# Session 4, call E (~5 min): candidates per score position (4, 5, 6) against the fix-up launch
# and in-kernel refinement (call D: the fix-up launch is latency-bound, ~1.7 ms at 16k rand for
# 0.6% of rows; 5 candidates should leave ~15x fewer rows uncertified, at more registers).
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 480:
#     bash scripts/gpu_run.sh bash scripts/gpu_call_s4e.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 420 python3 benchmarks/gpu_attention_subset.py --out "$OUT" --budget 240 \
    --configs "subset 64x64/4w,subset in-kernel refinement,subset top-5,subset top-5 in-kernel,subset top-6 in-kernel"
echo "subset exit status $?"
