#!/usr/bin/env bash
# Session 32, call F: the shipped LIST_PREFIX (the forward's own lists ranked from one scan) against
# the per-tile scans, alternated, training untouched; the forward kernel tests of the gather / fix-up
# / replay paths on the GPU; compute-sanitizer memcheck over the small runs of those variants.
#
#   device run, carry [".whl"], timeout_s 590:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s32f.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 200 python3 benchmarks/gpu_knob_ab.py --err-rows 256 --points 16384:rand,32768:rand,16384:local \
    --variants ";LIST_PREFIX=0;;LIST_PREFIX=0"
echo "knob_ab exit status $?"
timeout -s INT 200 python3 -m pytest tests/kernels/test_attention_fwd.py -q -x -p no:cacheprovider \
    -k "gather or replay or fixup" 2>&1 | tail -5
echo "pytest exit status $?"
timeout 150 compute-sanitizer --tool memcheck --error-exitcode 9 python3 benchmarks/gpu_checks.py --small --fixup-only 2>&1 | tail -4
echo "compute-sanitizer exit status $?"
