#!/usr/bin/env bash
# Session 27, call C: the launches beside each other after the main launch from 16k keys. At 16k
# 'rand' the gather launch is the tail (call B's timeline: 1.29-1.35 ms against the fix-up's 1.25),
# at 32k the fix-up (2.75 ms, ending ~0.3 ms after the gather). Knobs of those two launches, do_bench
# A/B with the defaults first and last, the output's max error on the last 256 rows against float64.
#
#   device run, carry [".whl"], timeout_s 560:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s27c.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 500 python3 benchmarks/gpu_knob_ab.py --err-rows 256 \
    --points 16384:rand,32768:rand,16384:local \
    --variants ";GATHER_UNROLL=8;GATHER_BLOCK_M=32;GATHER_WARPS=2;GATHER_WARPS=8;FIXUP_ROWS_PER_PROGRAM=512;FIXUP_ROWS_PER_PROGRAM=256;FIXUP_WARPS=4;"
echo "knob_ab exit status $?"
