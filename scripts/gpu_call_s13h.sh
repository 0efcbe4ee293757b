#!/usr/bin/env bash
# Session 13, call H: decode steps captured in CUDA graphs (ours and SDPA): replay bitwise equal to
# eager, and replay times (the host time gone).
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 240:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s13h.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 150 python3 benchmarks/gpu_decode.py --graphs --shapes 2x16x16x1,8x32x8x1,8x32x8x4 --lengths 4096,32768,131072
echo "graphs exit status $?"
