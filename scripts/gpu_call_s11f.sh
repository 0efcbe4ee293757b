#!/usr/bin/env bash
# Session 11, call F: the dQ kernel takes the pairs' dZ from the dK/dV kernel (gathers k only);
# int16 bins at 32k; training cap 128. Accuracy at 16k, time and parts at 16k and 32k, 50 backward
# passes bitwise equal.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 500:
#     bash scripts/gpu_run.sh bash scripts/gpu_call_s11f.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 400 python3 benchmarks/gpu_listed_bwd.py --points 16384,32768 --determinism 50 --out "$OUT/listed.json"
echo "listed exit status $?"
