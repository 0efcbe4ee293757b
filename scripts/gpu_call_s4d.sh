#!/usr/bin/env bash
# Session 4, call D (~5 min): rows the candidates miss redone by a fix-up launch (16-row tiles of
# listed rows) against refinement sweeps inside the 64-row tile (call B: 2.3 of 11.5 ms at 16k
# rand); checks against float64 with the number of listed rows; forward timings at 4k/16k/32k.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 600:
#     bash scripts/gpu_run.sh bash scripts/gpu_call_s4d.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 400 python3 benchmarks/gpu_attention_subset.py --out "$OUT" --budget 200 \
    --configs "subset 64x64/4w,subset in-kernel refinement,elem 64x64/4w"
echo "subset exit status $?"
