#!/usr/bin/env bash
# Session 9, call A (~300 s of device time were left this session): GATHER's main launch
# as two kernels (GATHER_SPLIT, the default now) against one (session 8) and the dense output
# sweep, forward at 16k/32k rand/local beside cuDNN; the 16k/4k row checks against float64 first.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 280:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s9a.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 240 python3 benchmarks/gpu_attention_subset.py --out "$OUT" --ns 16384,32768 --budget 70 \
    --configs "subset 64x64/4w,subset gather one kernel,subset dense output"
echo "subset exit status $?"
