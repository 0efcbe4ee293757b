#!/usr/bin/env bash
# Session 25, call F: after folding the plans (_MultiPlan extends _Plan, _forked, _gather_alloc):
# the replay tests on the GPU and the replay A/B once more (outputs bitwise against REPLAY off).
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 400:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s25f.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 200 python3 -m pytest tests/kernels/test_attention_fwd.py -n 8 -q -p no:cacheprovider --tb=short \
    -k "replay or multi_launch" 2>&1 | tail -3
echo "replay tests exit status $?"
timeout -s INT 150 python3 benchmarks/gpu_knob_ab.py --idle --points 16384:rand --variants "REPLAY=0;REPLAY=1"
echo "knob_ab exit status $?"
