#!/usr/bin/env bash
# Session 6, call F (~3 min): as call E with the collection moved out of the output sweep into a
# sweep of its own (tiles with a listed row only); checks and timings at 4k/16k/32k.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 300:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s6f.sh
# The collecting code these calls measured was slower at every point and was reverted; it is in
# commit c9e4e54 (call G's form) and its parents 6d5379b (call E) and fde1792 (call F).
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 270 python3 benchmarks/gpu_attention_subset.py --out "$OUT" --ns 4096,16384,32768 --budget 170 \
    --configs "subset 64x64/4w,subset no-collect,subset collect from 4k,subset in-kernel refinement"
echo "subset exit status $?"
