#!/usr/bin/env bash
# Session 12, call G: in-order and side-by-side fix-up give the same results (training too, now that
# the gather launch reads a copy of the counts either way); the sparse route's probe length and
# the fix-up launch's shape beside the gather launch, 16k and 32k.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 400:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s12g.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 120 python3 benchmarks/gpu_concurrency.py --out "$OUT" --only-same
echo "same exit status $?"
timeout 240 python3 benchmarks/gpu_attention_subset.py --out "$OUT" --ns 16384,32768 --budget 200 \
    --configs "subset 64x64/4w,subset patience 2,subset patience 3,subset fix-up 4 programs,subset fix-up 16 programs,subset fix-up 2 warps"
echo "subset exit status $?"
