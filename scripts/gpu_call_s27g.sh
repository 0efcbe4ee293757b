#!/usr/bin/env bash
# Session 27, call G: the targeted refinement below 16k keys (attention.SUBSET_TARGETED, template
# refine_targeted: an uncertified row scans the score positions that can hide a missed key, one key
# per tile, and solves again, before any refinement sweep). 1) its tests and the refinement tests on
# the GPU; 2) phases at 4k and 8k (sweep 1, + output, the refinement's code without its sweeps,
# full) with it on and off; 3) do_bench A/B through the public op, defaults first and last, with
# the output's max error on the last 256 rows against float64.
#
#   device run, carry [".whl"], timeout_s 360:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s27g.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 100 python3 -m pytest tests/kernels/test_attention_fwd.py -q -x -n 12 \
    -k "targeted_refinement or subset_refinement or subset_near" \
    -p no:cacheprovider 2>&1 | tail -3
echo "tests exit status $?"
timeout -s INT 100 python3 benchmarks/gpu_general_phases.py --n 4096 8192 --alphas 1.5 --inputs rand local \
    --variants "SUBSET_TARGETED=1;SUBSET_TARGETED=0" 2>&1 | grep "^\[phases\]"
echo "phases exit status $?"
timeout -s INT 110 python3 benchmarks/gpu_knob_ab.py --err-rows 256 --points 4096:rand,4096:local,8192:rand,8192:local \
    --variants ";SUBSET_TARGETED=0;;SUBSET_TARGETED=0"
echo "knob_ab exit status $?"
