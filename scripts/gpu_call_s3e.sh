#!/usr/bin/env bash
# Session 3, call E (~2.5 min): the row-wise report again, now with a 3 s GPU warm-up before timing
# and each shape's softmax / default timings repeated at its end (call D timed the default at
# 0.0741 ms first thing on a cold machine and the same kernel at 0.0415 ms later in the run).
#
#   device run, carry [".whl"], timeout_s 220:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s3e.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 200 python3 benchmarks/gpu_rowwise.py --skip-peers
echo "rowwise exit status $?"
