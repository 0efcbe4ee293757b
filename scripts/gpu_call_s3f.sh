#!/usr/bin/env bash
# Session 3, call F (~1.5 min): general-α row-wise, histogram vs subset kernel; α = 2 at 4 vs 8
# warps; the row-wise backward with its own 8-warp table.
#
#   device run, carry [".whl"], timeout_s 150:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s3f.sh
set -u
timeout 140 python3 benchmarks/gpu_rowwise_general.py
echo "general exit status $?"
