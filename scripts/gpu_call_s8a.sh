#!/usr/bin/env bash
# Session 8, call A (~8 min): the output gathered from the candidates' listed support
# (attention.SUBSET_GATHER) against the dense output sweep: accuracy against float64 (4k, and the
# last 512 rows at 16k), then forward timings at 4k/16k/32k rand/local with the list cap and the
# fix-up threshold varied, the training forward (O₂ + tile map) and fwd+bwd at 4k/16k, and the
# 16k forward's bitwise determinism.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 600:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s8a.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 60 python3 benchmarks/gpu_checks.py --fwd-determinism 5
echo "fwd determinism exit status $?"
timeout 420 python3 benchmarks/gpu_attention_subset.py --out "$OUT" --ns 4096,16384,32768 --budget 230 \
    --configs "subset 64x64/4w,subset dense output,subset in-kernel refinement,subset fix-up from 4k,subset gather 4 warps" \
    --bwd-ns 4096,16384 --bwd-budget 60
echo "subset exit status $?"
