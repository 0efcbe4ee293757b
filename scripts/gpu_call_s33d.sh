#!/usr/bin/env bash
# Session 33, call D: which rows the fix-up launches still get with GATHER_SCAN, and why
# (benchmarks/gpu_scan_rows.py), at 16k and 32k 'rand' and 16k 'local'.
#
#   device run, carry [".whl"], timeout_s 300:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s33d.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 200 python3 benchmarks/gpu_scan_rows.py --points 16384:rand,32768:rand,16384:local
echo "scan_rows exit status $?"
