#!/usr/bin/env bash
# Session 8, call G (~3 min): what GATHER costs the 'local' forward (call F: 16k 4.22 ms against
# 3.44 with the dense output sweep): rendered but never taken (GATHER_DENSE_FRAC > 1) against a
# stricter probe (90% of rows near in every probe tile) and the default (50%), 16k/32k.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 400:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s8g.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 300 python3 benchmarks/gpu_attention_subset.py --out "$OUT" --ns 16384,32768 --budget 200 \
    --configs "subset 64x64/4w,subset gather never,subset gather 90% dense rows,subset dense output" --skip-check
echo "subset exit status $?"
