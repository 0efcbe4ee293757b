#!/usr/bin/env bash
# Session 4, call G (~7 min): the fix-up launch with an early exit for programs that find no listed
# row, at 4k too, and its tile (16x64 / 16x128 / 32x64, 4 / 8 warps), against refinement in the
# tile (call E: the fix-up launch cost 0.07-0.23 ms on 'local', where it has nothing to do).
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 560:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s4g.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 380 python3 benchmarks/gpu_attention_subset.py --out "$OUT" --budget 220 --skip-check \
    --configs "subset 64x64/4w,subset in-kernel refinement,subset fix-up from 4k,subset fix-up 16x128,subset fix-up 8 warps,subset fix-up 32x64"
echo "subset exit status $?"
# the early exit under compute-sanitizer too (call F ran the fix-up kernel without it)
timeout 190 compute-sanitizer --tool memcheck --error-exitcode 9 python3 benchmarks/gpu_checks.py --small --default-config-only
echo "compute-sanitizer exit status $?"
