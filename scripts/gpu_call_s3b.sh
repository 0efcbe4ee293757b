#!/usr/bin/env bash
# Session 3, call B (~9 min): the row-wise sweep with the "top" bracket (per-thread top-2 solved
# first) and register caps (issue #2), then compute-sanitizer memcheck over benchmarks/gpu_checks.py
# --small (issue #3; row-wise kernels first, then each attention case per forward config; the
# timeout may cut the last configs, the log says which ran). SAVE_CACHE=1 brings the Triton cache back.
#
#   device run, carry [".whl"], timeout_s 600:
#     bash scripts/gpu_run.sh bash scripts/gpu_call_s3b.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 170 python3 benchmarks/gpu_rowwise.py --sweep --budget-s 150
echo "rowwise sweep exit status $?"
timeout 300 compute-sanitizer --tool memcheck --error-exitcode 9 python3 benchmarks/gpu_checks.py --small
echo "compute-sanitizer exit status $?"
