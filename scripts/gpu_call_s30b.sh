#!/usr/bin/env bash
# Session 30, call B: the suite's 16k rows of the three libraries in one run (ours, AdaSplash-2 live,
# cuDNN), forward and forward+backward, 'rand' and 'local'. AdaSplash-2 was last timed at 16k in
# session 12 (calls I, F), beside older kernels of ours; its first call at each length autotunes for
# minutes, hence one length per call.
#
#   device run, carry [".whl"], timeout_s 580:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s30b.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 550 python3 -m pytest benchmarks/bench_attention.py --bench-grid=core --bench-budget=530 \
    -k "not noncausal and D128 and (adasplash_compile or adasplash2 or sdpa_cudnn) and N16384" \
    --benchmark-json="$OUT/core16k.json" -q -p no:cacheprovider -rs 2>&1 | grep -E "^\[bench|passed|failed|error|SKIP"
echo "suite 16k exit status $?"
