#!/usr/bin/env bash
# Session 11, call C: the listed kernels' software pipelining (num_stages) and chunk sizes at 16k
# 'rand', then the time and parts at 16k with the best.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 400:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s11c.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 300 python3 benchmarks/gpu_listed_bwd.py --points 16384 --skip-accuracy --sweep --determinism 0 --out "$OUT/listed.json"
echo "listed exit status $?"
