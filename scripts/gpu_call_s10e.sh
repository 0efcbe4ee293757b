#!/usr/bin/env bash
# Session 10, call E (~6 min): the listed-row backward after the span skipping (time and parts at
# 16k/32k), then the suite's 32k rows (ours and cuDNN; AdaSplash-2's 32k autotune alone
# takes 237 s, its fwd anchor stands in), D=64 at 4k beside AdaSplash-2, and the non-causal point.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 600:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s10e.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 150 python3 benchmarks/gpu_listed_bwd.py --skip-accuracy --determinism 0 --out "$OUT/listed.json"
echo "listed exit status $?"
timeout 420 python3 -m pytest benchmarks/bench_attention.py --bench-grid=core --bench-budget=380 \
    -k "(N32768 and (adasplash_compile or sdpa_cudnn)) or D64 or noncausal" \
    --benchmark-json="$OUT/core.json" -q -p no:cacheprovider -rs
echo "suite exit status $?"
python3 benchmarks/summarize.py "$OUT/core.json" --out "$OUT"
