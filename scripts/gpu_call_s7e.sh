#!/usr/bin/env bash
# Session 7, call E (~8 min): the 16k forward's bitwise determinism with the fix-up taking every
# tile through its masked loop (call D: τ varied in the last bit in 97 listed rows), then the suite
# beside AdaSplash-2 and cuDNN (bf16, B=2, H=16, D=128, causal, rand/local, 4k/16k, fwd and
# fwd+bwd) with the session's changes: direct launches, no O₂ on inference, the near-key check's
# patience, the fix-up's looping programs.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 600:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s7e.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 60 python3 benchmarks/gpu_checks.py --fwd-determinism 5
echo "fwd determinism exit status $?"
timeout 470 python3 -m pytest benchmarks/bench_attention.py --bench-grid=core --bench-budget=430 \
    -k "not noncausal and D128 and (adasplash_compile or adasplash2 or sdpa_cudnn) and (N4096 or N16384)" \
    --benchmark-json="$OUT/core.json" -q -p no:cacheprovider -rs
echo "suite exit status $?"
python3 benchmarks/summarize.py "$OUT/core.json" --out "$OUT"
