#!/usr/bin/env bash
# Session 18, call K: general α at 4k after the inference output sweep took p = y^(γ−1)·y too
# (bitwise the training forward's output), forward and forward+backward.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 300:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s18k.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 200 python3 benchmarks/gpu_general_alpha.py --n 4096 --train --inputs rand local
echo "general 4k exit status $?"
