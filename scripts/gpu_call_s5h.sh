#!/usr/bin/env bash
# Session 5, call H (~4 min): forward launch configs at D=64 (the table gives it D=128's 64x64/4-warp
# subset tile, untuned; session 4's call C had it level with AdaSplash-2 at 4k rand): checks against
# float64, then timings beside cuDNN at 4k and 16k, rand and local, bf16 causal α=1.5.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 330:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s5h.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 290 python3 benchmarks/gpu_attention_subset.py --out "$OUT" --head-dim 64 --ns 4096,16384 --budget 120 \
    --configs "subset 64x64/4w,subset 64x64/4w/2s,subset 128x64/8w,subset 32x64/2w,subset top-3,subset in-kernel refinement"
echo "subset exit status $?"
