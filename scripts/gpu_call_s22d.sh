#!/usr/bin/env bash
# Session 22, call D: the suite's 4k rows of the three libraries (ours, AdaSplash-2 live, cuDNN)
# in one run, with the solve's warm start (SUBSET_WARM = 4).
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 480:
#     bash scripts/gpu_run.sh bash scripts/gpu_call_s22d.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 420 python3 -m pytest benchmarks/bench_attention.py --bench-grid=core --bench-budget=400 \
    -k "not noncausal and D128 and (adasplash_compile or adasplash2 or sdpa_cudnn) and N4096" \
    --benchmark-json="$OUT/core4k.json" -q -p no:cacheprovider -rs 2>&1 | grep -E "^\[bench|passed|failed|error"
echo "suite exit status $?"
python3 benchmarks/summarize.py "$OUT/core4k.json" --out "$OUT" 2>&1 | tail -10
