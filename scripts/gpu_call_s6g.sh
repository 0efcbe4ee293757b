#!/usr/bin/env bash
# Session 6, call G (~2 min): the collection back in the output sweep, with one atomic per row
# that has hits and a prefix sum for the slots (call E's per-element atomics made every tile
# latency-bound; call F's sweep of its own cost a third of a sweep at 16k 'rand').
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 300:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s6g.sh
# The collecting code these calls measured was slower at every point and was reverted; it is in
# commit c9e4e54 (call G's form) and its parents 6d5379b (call E) and fde1792 (call F).
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 200 python3 benchmarks/gpu_attention_subset.py --out "$OUT" --ns 4096,16384,32768 --budget 120 \
    --configs "subset 64x64/4w,subset no-collect,subset collect from 4k"
echo "subset exit status $?"
