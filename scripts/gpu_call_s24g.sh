#!/usr/bin/env bash
# Session 24, call G: with the gather launch cheaper (GATHER_SCRATCH, GATHER_PACKED_X), is it worth
# taking below 16k keys? The gather and fix-up launches from 4k / 8k keys against the dense output
# sweep there.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 300:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s24g.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 280 python3 benchmarks/gpu_knob_ab.py --points 4096:rand,4096:local,8192:rand,8192:local \
    --variants "GATHER_MIN_LK=16384,FIXUP_MIN_LK=16384;GATHER_MIN_LK=4096,FIXUP_MIN_LK=4096;GATHER_MIN_LK=16384,FIXUP_MIN_LK=4096;GATHER_MIN_LK=16384,FIXUP_MIN_LK=16384" --err-rows 256
echo "knob_ab exit status $?"
