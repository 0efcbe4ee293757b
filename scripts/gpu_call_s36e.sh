#!/usr/bin/env bash
# Session 36, call E: three candidates per score position (SUBSET_TOPK) against four, now that the
# rows the candidates miss go to the gather launch's scan (GATHER_SCAN) rather than the fix-up
# (session 24 measured 3 against 4 before the scan: 16k rand 11.63 / 7.23 ms). Inference, do_bench,
# alternated twice.
#
#   device run, carry [".whl"], timeout_s 590:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s36e.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 500 python3 benchmarks/gpu_knob_ab.py --infer-only --err-rows 256 \
    --points 16384:rand,32768:rand,16384:local --variants ";SUBSET_TOPK=3;;SUBSET_TOPK=3"
echo "knob_ab exit status $?"
