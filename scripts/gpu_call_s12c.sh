#!/usr/bin/env bash
# Session 12, call C: the fix-up beside the gather launch and the pairs' grouping beside the dense
# passes, each on a side stream (benchmarks/gpu_concurrency.py: same results, accuracy,
# determinism, CUDA-graph replay, times at 8k, 16k, 32k).
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 500:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s12c.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 420 python3 benchmarks/gpu_concurrency.py --out "$OUT"
echo "concurrency exit status $?"
