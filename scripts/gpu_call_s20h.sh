#!/usr/bin/env bash
# Session 20, call H: the suite's 4k rows of the three libraries, live, in one run, with the final
# code (early launch, host trims, NaN propagation): call G's first row read 0.527 ms for a kernel
# whose do_bench did not move.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 240:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s20h.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 200 python3 -m pytest benchmarks/bench_attention.py --bench-grid=core --bench-budget=180 \
    -k "not noncausal and D128 and (adasplash_compile or adasplash2 or sdpa_cudnn) and N4096" \
    --benchmark-json="$OUT/core4k.json" -q -p no:cacheprovider -rs 2>&1 | grep -E "^\[bench|passed|failed|error"
echo "suite exit status $?"
python3 benchmarks/summarize.py "$OUT/core4k.json" --out "$OUT" 2>&1 | tail -10
