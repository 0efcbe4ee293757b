#!/usr/bin/env bash
# Session 27, call B (run at commit 1debf0d; the code was removed after it, see attention.py under
# FIXUP_ROWS_PER_PROGRAM): the inference fix-up in one sweep (attention.FIXUP_ONE_SWEEP, template
# FIXUP_ONE). 1) the forward's fix-up / gather tests on the GPU; 2) the kernel timeline of one
# 16k 'rand' inference step with it on and off (the fix-up beside the gather launch); 3) do_bench
# A/B, defaults first and last, against FIXUP_ONE_SWEEP=0 and top-3 candidates with the one-sweep
# fix-up (its rows were what made top-3 lose in session 24), with the output's max error on the
# last 256 rows against float64.
#
#   device run, carry [".whl"], timeout_s 560:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s27b.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 120 python3 -m pytest tests/kernels/test_attention_fwd.py -q -x -n 8 \
    -k "fixup_one or gather_lists_hold or gather_cap_overflow or replayed_multi_launch" \
    -p no:cacheprovider 2>&1 | tail -5
echo "fixup tests exit status $?"
timeout -s INT 90 python3 benchmarks/gpu_timeline.py --out "$OUT" \
    --cases "infer:rand:16384;infer:rand:16384:FIXUP_ONE_SWEEP=0;infer:rand:32768;infer:rand:32768:FIXUP_ONE_SWEEP=0" 2>&1 \
    | grep -v " host "
echo "timeline exit status $?"
timeout -s INT 240 python3 benchmarks/gpu_knob_ab.py --err-rows 256 \
    --points 16384:rand,32768:rand,16384:local \
    --variants ";FIXUP_ONE_SWEEP=0;SUBSET_TOPK=3;SUBSET_TOPK=3,FIXUP_ROWS_PER_PROGRAM=256;"
echo "knob_ab exit status $?"
