#!/usr/bin/env bash
# Session 30, call D (prepared for the next session; session 30 had no device time left): the
# suite's 32k forward+backward rows of the three libraries in one run. In call C AdaSplash-2's
# first forward+backward call at 32k autotuned past the suite's 240 s row limit (its forward took
# 202 s), so its rows were skipped and the README keeps session 17's; here the row limit is raised.
#
#   device run, carry [".whl"], timeout_s 598:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s30d.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 570 python3 -m pytest benchmarks/bench_attention.py --bench-grid=full --bench-budget=560 \
    --bench-row-timeout=480 \
    -k "not noncausal and D128 and N32768 and fwd_bwd and (adasplash2 or sdpa_cudnn or (adasplash_compile and a1.5))" \
    --benchmark-json="$OUT/core32k_train.json" -q -p no:cacheprovider -rs 2>&1 | grep -E "^\[bench|passed|failed|error|SKIP"
echo "suite 32k training exit status $?"
