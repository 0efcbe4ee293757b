#!/usr/bin/env bash
# Session 20, call B: the critical path again (marks at each launch now), with the forward kernel
# launched before the autograd node is built (ops.EARLY_LAUNCH) against inside the Function, and
# the inference step beside the peers'.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 420:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s20b.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 300 python3 benchmarks/gpu_critical_path.py --out "$OUT" --rounds 200 --cases local:4096
echo "critical path exit status $?"
