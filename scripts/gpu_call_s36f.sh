#!/usr/bin/env bash
# Session 36, call F: where SUBSET_TOPK=3's time goes (call E: 16k rand level with 4, 32k rand +5%,
# 16k local +2%): the kernel timeline at 16k / 32k rand with 4 and 3 candidates per position, and
# which rows the fix-ups get with 3 (gpu_scan_rows.py).
#
#   device run, carry [".whl"], timeout_s 590:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s36f.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 150 python3 benchmarks/gpu_timeline.py --out "$OUT" \
    --cases "infer:rand:16384;infer:rand:16384:SUBSET_TOPK=3;infer:rand:32768;infer:rand:32768:SUBSET_TOPK=3" 2>&1 | grep -v "host +" | head -60
echo "timeline exit status $?"
SUBSET_TOPK_OVERRIDE=3 timeout -s INT 200 python3 -c "
import sys, runpy
from adasplash_compile.kernels import attention
attention.SUBSET_TOPK = 3
sys.argv = ['gpu_scan_rows.py', '--points', '16384:rand,32768:rand', '--sample', '64']
runpy.run_path('benchmarks/gpu_scan_rows.py', run_name='__main__')
" 2>&1 | tail -30
echo "scan rows exit status $?"
