#!/usr/bin/env bash
# Session 24, call E: with the gather launch ~40% shorter (GATHER_PACKED_X), the fix-up beside it
# is as long (call D, 16k 'rand': 1.35 against 1.27 ms): more fix-up programs per head or warps.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 300:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s24e.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 280 python3 benchmarks/gpu_knob_ab.py --points 16384:rand,32768:rand \
    --variants "FIXUP_PROGRAMS=8;FIXUP_PROGRAMS=16;FIXUP_PROGRAMS=32;FIXUP_PROGRAMS=16,FIXUP_WARPS=4;FIXUP_PROGRAMS=8"
echo "knob_ab exit status $?"
