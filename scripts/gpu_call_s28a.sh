#!/usr/bin/env bash
# Session 28, call A (prepared in session 28, which had no device time left; for the next session):
# refine_targeted's scan at TARGETED_SCAN = 16 key tiles per step (the new default, chosen on ptxas
# counts alone: 108 spill bytes against 440 at 64, sweep 1's static STL/LDL 14/5 against 64/70).
# 1) the targeted and refinement tests on the GPU; 2) do_bench A/B through the public op, defaults
# first and last, TARGETED_SCAN=64 (session 27's kernel) and 32 between, with the output's max error
# on the last 256 rows against float64. Keep 16 if it is not slower than 64 at 4k and 8k rand;
# otherwise set attention.TARGETED_SCAN back and say so in its comment. The phases (sweep 1, +
# output, the refinement's code without its sweeps, full) show what the scan's code costs now
# (session 27 call G: 0.076 ms at 4k rand with TSCAN 64, 0.040 without the scan). Also the 64x64
# tile at 8 warps, which ptxas now compiles without spills (0 bytes against 108 at 4 warps), and
# the gather launch from 4k keys without the fix-up launch (session 24 call G timed it only with
# the fix-up: 4k rand 0.968 against 0.786 ms; the output sweep is 0.34 ms of the 4k rand forward).
#
#   device run, carry [".whl"], timeout_s 480:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s28a.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 100 python3 -m pytest tests/kernels/test_attention_fwd.py -q -x -n 12 \
    -k "targeted_refinement or subset_refinement or subset_near" \
    -p no:cacheprovider 2>&1 | tail -3
echo "tests exit status $?"
timeout -s INT 110 python3 benchmarks/gpu_general_phases.py --n 4096 8192 --alphas 1.5 --inputs rand local \
    --variants "TARGETED_SCAN=16;TARGETED_SCAN=64" 2>&1 | grep "^\[phases\]"
echo "phases exit status $?"
timeout -s INT 240 python3 benchmarks/gpu_knob_ab.py --err-rows 256 --points 4096:rand,4096:local,8192:rand,8192:local \
    --variants ";TARGETED_SCAN=64;TARGETED_SCAN=32;FWD_CFG=64x64x8x3;GATHER_MIN_LK=4096;;TARGETED_SCAN=64"
echo "knob_ab exit status $?"
