#!/usr/bin/env bash
# Session 34, call C: 1) compute-sanitizer memcheck over the small fix-up / gather / scan variants
# with the gather launch's register cap (GATHER_MAXNREG 64: its spills go to local memory); 2) the
# suite's 32k rows of ours and cuDNN, forward and forward+backward (the README's are session 30/31's,
# before GATHER_SCAN).
#
#   device run, carry [".whl"], timeout_s 400:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s34c.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 130 compute-sanitizer --tool memcheck --error-exitcode 9 python3 benchmarks/gpu_checks.py --small --fixup-only 2>&1 | grep -v "^\[small\].* ok$" | tail -6
echo "compute-sanitizer exit status ${PIPESTATUS[0]}"
bash scripts/gpu_suite_rows.sh full 200 190 core32k \
    "not noncausal and D128 and N32768 and (sdpa_cudnn or (adasplash_compile and a1.5))"
