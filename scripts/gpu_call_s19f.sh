#!/usr/bin/env bash
# Session 19, call F: general α at 4k with the fused dQ (float α; a per-head α keeps the dQ pass),
# forward and forward+backward, as session 18's call K.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 360:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s19f.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 300 python3 benchmarks/gpu_general_alpha.py --n 4096 --train --inputs rand local
echo "general 4k exit status $?"
