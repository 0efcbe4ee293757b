#!/usr/bin/env bash
# Session 6, call B (~8 min): the benchmark suite's core D=128 causal rows at 4k and 16k, rand and
# local, forward and forward+backward, ours (cached kernel handles, the dQ pass on the forward's tile
# map) beside AdaSplash-2 and cuDNN in one run.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 600:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s6b.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 500 python3 -m pytest benchmarks/bench_attention.py --bench-grid=core --bench-budget=460 \
    -k "not noncausal and D128 and (adasplash_compile or adasplash2 or sdpa_cudnn) and (N4096 or N16384)" \
    --benchmark-json="$OUT/core.json" -q -p no:cacheprovider -rs
echo "suite exit status $?"
python3 benchmarks/summarize.py "$OUT/core.json" --out "$OUT"
