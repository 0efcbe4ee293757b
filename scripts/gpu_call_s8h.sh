#!/usr/bin/env bash
# Session 8, call H (~9 min): the suite beside AdaSplash-2 and cuDNN with GATHER from 16k keys
# (bf16, B=2, H=16, D=128, causal, rand/local, fwd and fwd+bwd): 16k with AdaSplash-2 live,
# 32k ours and cuDNN (AdaSplash-2's 32k autotune alone takes 237 s; its 32k fwd anchor is used).
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 600:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s8h.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 540 python3 -m pytest benchmarks/bench_attention.py --bench-grid=core --bench-budget=500 \
    -k "not noncausal and D128 and (adasplash_compile or adasplash2 or sdpa_cudnn) and (N16384 or N32768)" \
    --benchmark-json="$OUT/core.json" -q -p no:cacheprovider -rs
echo "suite exit status $?"
python3 benchmarks/summarize.py "$OUT/core.json" --out "$OUT"
