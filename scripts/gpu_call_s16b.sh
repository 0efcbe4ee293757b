#!/usr/bin/env bash
# Session 16, call B: the 32k rows beside AdaSplash-2, live (#3/#4 ask for N = 32k side by side;
# AdaSplash-2's 32k rows were the anchor's forward only). Its autotune at a new N takes ~4 min per
# pass, and TRITON_CACHE_AUTOTUNING (benchmarks/conftest.py) keeps the result in the cache this
# call brings back, for call C if the training rows do not fit here.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 600:
#     bash scripts/gpu_run.sh bash scripts/gpu_call_s16b.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
sel="N32768 and D128 and not noncausal and (adasplash_compile or adasplash2 or sdpa_cudnn)"
timeout 330 python3 -m pytest benchmarks/bench_attention.py --bench-grid=full --bench-budget=320 \
    --bench-row-timeout=300 -k "$sel and fwd-" --benchmark-json="$OUT/fwd32k.json" -q -p no:cacheprovider -rs
echo "suite fwd 32k exit status $?"
timeout 200 python3 -m pytest benchmarks/bench_attention.py --bench-grid=full --bench-budget=190 \
    --bench-row-timeout=180 -k "$sel and fwd_bwd" --benchmark-json="$OUT/train32k.json" -q -p no:cacheprovider -rs
echo "suite fwd+bwd 32k exit status $?"
