#!/usr/bin/env bash
# Session 17, call C: the suite's 16k and 32k rows for ours (with SUBSET_LEAN_DENSE, now the
# default) and cuDNN, then AdaSplash-2's 32k rows, forward and forward+backward, live: its
# training autotune at 32k did not fit session 16's call B, so it gets the rest of this call.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 600:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s17c.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
sel="D128 and not noncausal and not decode"
timeout 110 python3 -m pytest benchmarks/bench_attention.py --bench-grid=full --bench-budget=100 \
    --bench-row-timeout=60 -k "$sel and (N16384 or N32768) and ((adasplash_compile and a1.5) or sdpa_cudnn)" \
    --benchmark-json="$OUT/ours.json" -q -p no:cacheprovider -rs
echo "suite ours/cuDNN exit status $?"
timeout 455 python3 -m pytest benchmarks/bench_attention.py --bench-grid=full --bench-budget=450 \
    --bench-row-timeout=440 -k "$sel and N32768 and adasplash2" --benchmark-json="$OUT/adasplash2_32k.json" \
    -q -p no:cacheprovider -rs
echo "suite AdaSplash-2 32k exit status $?"
