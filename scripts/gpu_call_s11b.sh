#!/usr/bin/env bash
# Session 11, call B: the listed kernels walking pairs CHUNK at a time (one-hot dots) and the pairs
# grouped by key block (int16 sort): accuracy at 16k, time and parts at 16k and 32k, the config
# sweep at 16k 'rand', 50 backward passes bitwise equal.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 600:
#     bash scripts/gpu_run.sh bash scripts/gpu_call_s11b.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 540 python3 benchmarks/gpu_listed_bwd.py --points 16384,32768 --sweep --determinism 50 --out "$OUT/listed.json"
echo "listed exit status $?"
