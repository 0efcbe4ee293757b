#!/usr/bin/env bash
# Session 14, call F: one learnable α per head at 4k: two threshold sweeps when every α ≤ 2 (read by
# the argument check), five otherwise, beside the float α path; error against float64.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 400:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s14f.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 360 python3 benchmarks/gpu_head_alpha.py --n 4096
echo "head-alpha exit status $?"
