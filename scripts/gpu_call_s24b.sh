#!/usr/bin/env bash
# Session 24, call B: three candidates per score position instead of four (SUBSET_TOPK: 6 min/max
# per score in sweep 1 instead of 8, more rows uncertified for the fix-up), with more fix-up
# programs per head, at the lengths that run the fix-up and gather launches.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 400:
#     bash scripts/gpu_run.sh bash scripts/gpu_call_s24b.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 360 python3 benchmarks/gpu_knob_ab.py --points 16384:rand,16384:local,32768:rand \
    --variants "SUBSET_TOPK=4;SUBSET_TOPK=3;SUBSET_TOPK=3,FIXUP_PROGRAMS=16;SUBSET_TOPK=3,FIXUP_PROGRAMS=32;SUBSET_TOPK=4" --err-rows 256
echo "knob_ab exit status $?"
