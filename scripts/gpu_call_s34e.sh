#!/usr/bin/env bash
# Session 34, call E: around the gather launch's register cap (GATHER_MAXNREG 64, calls A, B):
# caps of 56 and 48 (9 and 10 programs per SM; ptxas spills 136 / 256 bytes), 2 or 8 listed keys
# per pass-B step (GATHER_UNROLL, 4 now; 44 / 204 bytes spilled at the cap), 2 warps per program.
# do_bench, inference only, alternated with the defaults; max error on the last 256 rows.
#
#   device run, carry [".whl"], timeout_s 300:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s34e.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 250 python3 benchmarks/gpu_knob_ab.py --infer-only --err-rows 256 --points 16384:rand,32768:rand,16384:local \
    --variants ";GATHER_MAXNREG=56;GATHER_MAXNREG=48;GATHER_UNROLL=2;GATHER_UNROLL=8;GATHER_UNROLL=2,GATHER_MAXNREG=56;GATHER_WARPS=2;"
echo "knob_ab exit status $?"
