#!/usr/bin/env bash
# Session 7, call D (~7 min): the fix-up launch with a few programs per head looping over its listed
# rows (FIXUP_PROGRAMS) instead of a program per 16 rows of the head. Kernel timeline (profiler),
# 16k forward bitwise determinism and agreement with refinement in the tile, compute-sanitizer
# memcheck of small awkward shapes with the fix-up at any length, timings at 4k/16k/32k.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 600:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s7d.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 60 python3 benchmarks/gpu_fixup_profile.py
echo "profile exit status $?"
timeout 60 python3 benchmarks/gpu_checks.py --fwd-determinism 5
echo "fwd determinism exit status $?"
timeout 300 python3 benchmarks/gpu_attention_subset.py --out "$OUT" --ns 4096,16384,32768 --budget 200 \
    --configs "subset 64x64/4w,subset in-kernel refinement,subset fix-up from 4k,subset fix-up 32 programs,subset fix-up 2 programs,profile: no refinement"
echo "subset exit status $?"
timeout 140 compute-sanitizer --tool memcheck python3 benchmarks/gpu_checks.py --small --default-config-only 2>&1 | grep -v "^\[small\].*: ok$" | tail -25
echo "sanitizer exit status ${PIPESTATUS[0]}"
