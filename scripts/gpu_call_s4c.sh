#!/usr/bin/env bash
# Session 4, call C (~9 min): the benchmark suite's core grid with the new defaults ("subset"
# forward, backward restricted to the forward's non-empty query-block ranges) beside AdaSplash-2
# (forward rows), cuDNN and flash in one run; then the training section of the subset script at
# 4k/16k/32k (backward with and without the tile map).
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 600:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s4c.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 430 python3 -m pytest benchmarks --bench-grid=core --bench-budget=400 -k "not (adasplash2 and fwd_bwd)" \
    --benchmark-json="$OUT/core.json" -q -p no:cacheprovider -rs
echo "suite exit status $?"
python3 benchmarks/summarize.py "$OUT/core.json" --out "$OUT"
timeout 120 python3 benchmarks/gpu_attention_subset.py --out "$OUT" --skip-check --ns "" --bwd-ns 4096,16384,32768 --bwd-budget 90
echo "training exit status $?"
