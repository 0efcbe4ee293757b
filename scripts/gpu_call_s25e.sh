#!/usr/bin/env bash
# Session 25, call E: the multi-launch replay's effect again (call A's idle medians were noisy):
# REPLAY off / on three times each, 16k 'rand' and 'local', 32k 'rand'.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 300:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s25e.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 280 python3 benchmarks/gpu_knob_ab.py --idle --points 16384:rand,16384:local,32768:rand \
    --variants "REPLAY=0;REPLAY=1;REPLAY=0;REPLAY=1;REPLAY=0;REPLAY=1"
echo "knob_ab exit status $?"
