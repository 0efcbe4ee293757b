#!/usr/bin/env bash
# Session 4, call B (~8 min): the "subset" forward after call A, now without per-tile reductions
# across the program in sweep 1 (key range tracked per row), with and without the near-tile skip,
# plus profiling variants (no refinement; sweep 1 only) beside the old "elem" and cuDNN at
# 4k/16k/32k; then training at 4k/16k: our backward with and without the forward's tile map,
# forward+backward beside cuDNN (issues #3, #4).
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 600:
#     bash scripts/gpu_run.sh bash scripts/gpu_call_s4b.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 560 python3 benchmarks/gpu_attention_subset.py --out "$OUT" --budget 240 --bwd-ns 4096,16384 --bwd-budget 150
echo "subset exit status $?"
