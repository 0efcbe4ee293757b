#!/usr/bin/env bash
# Session 4, call H (~5 min): the final forward (subset, fix-up from 16k, eager fast path) beside
# AdaSplash-2 and cuDNN in one suite run, bf16 D=128 causal, 4k and 16k, rand and local (issue #3).
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 400:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s4h.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 330 python3 -m pytest benchmarks/bench_attention.py --bench-grid=core --bench-budget=300 \
    -k "not fwd_bwd and not noncausal and D128 and (adasplash_compile or adasplash2 or sdpa_cudnn) and (N4096 or N16384)" \
    --benchmark-json="$OUT/core.json" -q -p no:cacheprovider -rs
echo "suite exit status $?"
python3 benchmarks/summarize.py "$OUT/core.json" --out "$OUT"
