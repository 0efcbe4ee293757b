#!/usr/bin/env bash
# Session 18, call I: general α's forward at 32k after calls E-H's changes
# (benchmarks/gpu_general_alpha.py, forward only), 'rand' and 'local'.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 420:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s18i.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 330 python3 benchmarks/gpu_general_alpha.py --n 32768 --inputs rand local
echo "32k exit status $?"
