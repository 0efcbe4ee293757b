#!/usr/bin/env bash
# Session 34, call D: call C's compute-sanitizer memcheck again with more time (in call C it was
# still compiling the kernels under the sanitizer at its 130 s limit): the small fix-up / gather /
# scan variants, the gather launch at its register cap (GATHER_MAXNREG 64).
#
#   device run, carry [".whl"], timeout_s 420:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s34d.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 380 compute-sanitizer --tool memcheck --error-exitcode 9 python3 benchmarks/gpu_checks.py --small --fixup-only 2>&1 | grep -v "^\[small\].* ok$" | tail -8
echo "compute-sanitizer exit status ${PIPESTATUS[0]}"
