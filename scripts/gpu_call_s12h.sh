#!/usr/bin/env bash
# Session 12, call H: the probe of 2 tiles and the fix-up at 2 warps (call G: each faster at 16k and
# 32k), alone and together, at 4k, 8k, 16k and 32k (inference).
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 400:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s12h.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 300 python3 benchmarks/gpu_attention_subset.py --out "$OUT" --ns 4096,8192,16384,32768 --budget 230 \
    --configs "subset 64x64/4w,subset patience 2,subset fix-up 2 warps,subset patience 2 fix-up 2 warps"
echo "subset exit status $?"
