#!/usr/bin/env bash
# Session 36, call H: all of tests/kernels and the training tests on the H200 in one run, with
# this session's code (the words' placeholder lists), as session 26 call B ran them.
#
#   device run, carry [".whl"], timeout_s 590:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s36h.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 540 python3 -m pytest tests/kernels tests/test_training.py -n 15 --dist worksteal -q \
    -p no:cacheprovider --tb=short -rfE --durations=15 --junitxml="$OUT/junit.xml" > "$OUT/tests.txt" 2>&1
echo "tests exit status $?"
grep -E "FAILED|ERROR" "$OUT/tests.txt" | head -20
tail -22 "$OUT/tests.txt"
