#!/usr/bin/env bash
# Session 7, call C (~8 min): the split fix-up (rows the candidates missed, redone by programs of 16
# rows x one key split, one launch per refinement round). compute-sanitizer memcheck of the small
# awkward shapes with the fix-up at any length; 16k forward bitwise determinism and agreement with
# the whole-row fix-up; checks and timings against the whole-row fix-up at 4k/16k/32k; training at
# 16k.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 600:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s7c.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 150 compute-sanitizer --tool memcheck python3 benchmarks/gpu_checks.py --small --default-config-only 2>&1 | grep -v "^\[small\].*: ok$" | tail -25
echo "sanitizer exit status ${PIPESTATUS[0]}"
timeout 60 python3 benchmarks/gpu_checks.py --fwd-determinism 5
echo "fwd determinism exit status $?"
timeout 320 python3 benchmarks/gpu_attention_subset.py --out "$OUT" --ns 4096,16384,32768 --budget 150 \
    --configs "subset 64x64/4w,subset whole-row fix-up,subset fix-up from 4k,subset whole-row fix-up from 4k,profile: no refinement" \
    --bwd-ns 16384 --bwd-budget 60
echo "subset exit status $?"
