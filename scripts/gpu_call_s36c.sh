#!/usr/bin/env bash
# Session 36, call C: the gather launch's knobs again now that its lists are words (pass B loads
# one word per key instead of an index and an x; session 34's measurements of the register cap,
# the keys per step and the scan's keys per step predate that). do_bench, inference only, the
# defaults first and last.
#
#   device run, carry [".whl"], timeout_s 590:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s36c.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 400 python3 benchmarks/gpu_knob_ab.py --infer-only --err-rows 256 --points 16384:rand,32768:rand \
    --variants ";GATHER_MAXNREG=56;GATHER_MAXNREG=72;GATHER_UNROLL=8;GATHER_STAGES=3;GATHER_SCAN_KEYS=64;"
echo "knob_ab exit status $?"
