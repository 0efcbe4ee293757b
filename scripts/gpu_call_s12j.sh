#!/usr/bin/env bash
# Session 12, call J: call I's training rows at 4k 'local' and 32k 'rand' came out slower than calls
# E / F: which of the two settings call H chose (a probe of 2 tiles, the fix-up at 2 warps) does it.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 200:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s12j.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 170 python3 benchmarks/gpu_knob_ab.py --points 4096:local,32768:rand,16384:rand \
    --variants "SUBSET_NEAR_PATIENCE=4,FIXUP_WARPS=4;SUBSET_NEAR_PATIENCE=2,FIXUP_WARPS=4;SUBSET_NEAR_PATIENCE=4,FIXUP_WARPS=2;SUBSET_NEAR_PATIENCE=2,FIXUP_WARPS=2"
echo "ab exit status $?"
