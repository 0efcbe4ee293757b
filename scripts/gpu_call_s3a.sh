#!/usr/bin/env bash
# Session 3, call A (~8 min): the row-wise variant sweep after the host-overhead fix (issue #2),
# then 50 bitwise-identical backward passes (issue #4), then compute-sanitizer memcheck over small
# runs of every kernel family (issue #3; the same steps as gpu_call_checks.sh, sweep first).
#
#   device run, carry [".whl"], timeout_s 600:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s3a.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 150 python3 benchmarks/gpu_rowwise.py --sweep --budget-s 120
echo "rowwise sweep exit status $?"
timeout 100 python3 benchmarks/gpu_checks.py --determinism 50
echo "determinism exit status $?"
python3 benchmarks/gpu_checks.py --small || echo "small runs FAILED without the sanitizer"
timeout 230 compute-sanitizer --tool memcheck --error-exitcode 9 python3 benchmarks/gpu_checks.py --small
echo "compute-sanitizer exit status $?"
