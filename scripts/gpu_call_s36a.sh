#!/usr/bin/env bash
# Session 36, call A: the checks GATHER_WORDS (session 34, call F) and its placeholder index lists
# (session 36) need on the GPU: 1) the forward tests of the gather / scan / replay paths (call F's
# run had an assertion since removed); 2) compute-sanitizer memcheck over the small fix-up / gather
# / scan variants ("gather scan" takes the words, with the one-slot GIDX), after one run without
# the sanitizer that fills the Triton cache (under the sanitizer a fresh machine spent its whole
# limit compiling). (Session 35 ran this with the suite's 16k rows; its results were lost.)
#
#   device run, carry [".whl"], timeout_s 590:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s36a.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 110 python3 -m pytest tests/kernels/test_attention_fwd.py -q -p no:cacheprovider -n 8 \
    -k "gather_scan or replayed_multi or gather_lists or gather_cap" 2>&1 | tail -4
echo "pytest exit status ${PIPESTATUS[0]}"
SECONDS=0
timeout -s INT 170 python3 benchmarks/gpu_checks.py --small --fixup-only 2>&1 | grep -v "^\[small\].* ok$" | tail -4
echo "warm-up (no sanitizer) exit status ${PIPESTATUS[0]} in ${SECONDS} s"
SECONDS=0
timeout -s INT 240 compute-sanitizer --tool memcheck --error-exitcode 9 python3 benchmarks/gpu_checks.py --small --fixup-only 2>&1 | grep -v "^\[small\].* ok$" | tail -6
echo "compute-sanitizer exit status ${PIPESTATUS[0]} in ${SECONDS} s"
