#!/usr/bin/env bash
# Session 26, call B: the kernel tests (forward, backward, decode, row-wise, launch, render) and the
# training smoke tests on the H200 in one run, 15 workers, none left out by a time limit if they
# fit (earlier sessions ran the forward and backward files apart, each stopped by its limit).
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 600:
#     bash scripts/gpu_run.sh bash scripts/gpu_call_s26b.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 500 python3 -m pytest tests/kernels tests/test_training.py -n 15 --dist worksteal -q \
    -p no:cacheprovider --tb=short -rfE --durations=15 --junitxml="$OUT/junit.xml" > "$OUT/tests.txt" 2>&1
echo "tests exit status $?"
grep -E "FAILED|ERROR" "$OUT/tests.txt" | head -20
tail -22 "$OUT/tests.txt"
