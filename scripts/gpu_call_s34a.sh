#!/usr/bin/env bash
# Session 34, call A: the gather launch at 16k / 32k (inference). 1) its τ solve read back in
# chunks of GATHER_SOLVE_SPLIT list columns (32, 64) against one [16, 128] tile held (0, session
# 33's); 2) a ptxas register cap on it (GATHER_MAXNREG 64 / 72 / 80: 8 / 7 / 6 four-warp programs
# per SM, against 80 registers uncapped with the tile and 96 with chunks of 32). do_bench
# medians, inference only, the output's max error on the last 256 rows against float64; then one
# inference step's kernel timeline at 16k 'rand' for three of them.
#
# (GATHER_SOLVE_SPLIT is commit ea99927's; it was removed after call B.)
#
#   device run, carry [".whl"], timeout_s 420:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s34a.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 230 python3 benchmarks/gpu_knob_ab.py --infer-only --err-rows 256 --points 16384:rand,32768:rand,16384:local \
    --variants "GATHER_SOLVE_SPLIT=0;GATHER_SOLVE_SPLIT=32;GATHER_SOLVE_SPLIT=64;GATHER_SOLVE_SPLIT=0,GATHER_MAXNREG=64;GATHER_SOLVE_SPLIT=0,GATHER_MAXNREG=72;GATHER_SOLVE_SPLIT=32,GATHER_MAXNREG=80;GATHER_SOLVE_SPLIT=32,GATHER_MAXNREG=64;GATHER_SOLVE_SPLIT=0"
echo "knob_ab exit status $?"
timeout -s INT 100 python3 benchmarks/gpu_timeline.py --out "$OUT" \
    --cases "infer:rand:16384:GATHER_SOLVE_SPLIT=0;infer:rand:16384:GATHER_SOLVE_SPLIT=32;infer:rand:16384:GATHER_SOLVE_SPLIT=0,GATHER_MAXNREG=64" 2>&1 | grep -v "host +" | head -60
echo "timeline exit status $?"
