#!/usr/bin/env bash
# Session 14, call G: where the general-α forward's time goes at 4k (call F: per-head α 35 ms on
# 'rand' against 0.85 for α = 1.5).
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 300:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s14g.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 270 python3 benchmarks/gpu_general_alpha.py --n 4096
echo "general exit status $?"
