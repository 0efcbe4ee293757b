#!/usr/bin/env bash
# Session 10, call F (~6 min): the suite beside AdaSplash-2 and cuDNN, live, at 4k and 16k (bf16, B=2,
# H=16, D=128, causal, rand/local, fwd and fwd+bwd): the training path now takes listed rows from
# the forward's lists; the dK/dV pass tests the map per tile only then (MAP_SKIP). AdaSplash-2 autotunes on its first call at each length (~1-2 min each).
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 600:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s10f.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 560 python3 -m pytest benchmarks/bench_attention.py --bench-grid=core --bench-budget=530 \
    -k "not noncausal and D128 and (adasplash_compile or adasplash2 or sdpa_cudnn) and (N4096 or N16384)" \
    --benchmark-json="$OUT/core.json" -q -p no:cacheprovider -rs
echo "suite exit status $?"
python3 benchmarks/summarize.py "$OUT/core.json" --out "$OUT"
