#!/usr/bin/env bash
# Session 6, call E (~4 min): listed rows redone from the keys the output sweep collected (finish
# launch) against the fix-up launch alone and refinement in the tile; checks (small awkward shapes
# with every row through the fix-up machinery; the launch checks) and timings at 4k/16k/32k.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 400:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s6e.sh
# The collecting code these calls measured was slower at every point and was reverted; it is in
# commit c9e4e54 (call G's form) and its parents 6d5379b (call E) and fde1792 (call F).
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 90 python3 benchmarks/gpu_checks.py --small --default-config-only
echo "small checks exit status $?"
timeout 250 python3 benchmarks/gpu_attention_subset.py --out "$OUT" --ns 4096,16384,32768 --budget 170 \
    --configs "subset 64x64/4w,subset no-collect,subset collect from 4k,subset collect from 1k,subset in-kernel refinement,profile: no refinement"
echo "subset exit status $?"
