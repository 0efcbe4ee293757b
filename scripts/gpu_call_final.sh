#!/usr/bin/env bash
# One device call (≤ 9 min): tune the attention forward at the suite's shapes (caching the picks),
# the row-wise variant sweep, then the benchmark suite with the tuned forward: ours, SDPA (cuDNN,
# flash) and AdaSplash-2 side by side (AdaSplash-2 autotunes per N, so its rows come last and the
# budget may cut its 16k rows), plus the row-wise rows.
#
#   device run, carry [".whl"], timeout_s 590:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_final.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=1
timeout 160 python3 benchmarks/gpu_tune_fwd.py --budget-s 130 --out "$OUT"
timeout 90 python3 benchmarks/gpu_rowwise.py --sweep --budget-s 60
timeout 270 python3 -m pytest benchmarks --bench-grid=core --bench-budget=${BENCH_BUDGET:-240} \
    -k "not train_step and not entmax_ and not adasplash1 and not D64 and not noncausal" \
    --benchmark-json="$OUT/core.json" -q -p no:cacheprovider -rs
