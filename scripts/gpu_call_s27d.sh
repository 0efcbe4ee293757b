#!/usr/bin/env bash
# Session 27, call D (run at commit 4571c7e; REFINE_ROWS was removed after it, see attention.py under
# FIXUP_MIN_LK): 1) the gather / listed / refinement tests of the forward and backward on the
# GPU (the training gather launch now at 8 warps, GATHER_WARPS_TRAIN; the narrow in-tile
# refinement, REFINE_ROWS); 2) below 16k keys (no fix-up launch), what the in-tile refinement of
# uncertified rows costs, with REFINE_ROWS 16 and 0 (benchmarks/gpu_general_phases.py, α = 1.5 /
# 2); 3) do_bench A/B through the public op, forward and forward+backward, REFINE_ROWS 16 / 0 at
# 4k and 8k, and GATHER_WARPS_TRAIN 8 / 4 / 16 at 16k and 32k 'rand', defaults first and last.
#
#   device run, carry [".whl"], timeout_s 580:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s27d.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 150 python3 -m pytest tests/kernels/test_attention_fwd.py tests/kernels/test_attention_bwd.py -q -x -n 14 \
    -k "gather or listed or replayed_multi or narrow_refinement or subset_refinement" -p no:cacheprovider 2>&1 | tail -4
echo "tests exit status $?"
timeout -s INT 120 python3 benchmarks/gpu_general_phases.py --n 4096 8192 --alphas 1.5 2.0 --inputs rand local \
    --variants "REFINE_ROWS=16;REFINE_ROWS=0" 2>&1 | grep "^\[phases\]"
echo "phases exit status $?"
timeout -s INT 110 python3 benchmarks/gpu_knob_ab.py --err-rows 256 --points 4096:rand,4096:local,8192:rand \
    --variants ";REFINE_ROWS=0;"
echo "knob_ab 4k exit status $?"
timeout -s INT 110 python3 benchmarks/gpu_knob_ab.py --points 16384:rand,32768:rand \
    --variants ";GATHER_WARPS_TRAIN=4;GATHER_WARPS_TRAIN=16;"
echo "knob_ab 16k exit status $?"
