#!/usr/bin/env bash
# Session 27, call H: the forward's test file on the GPU with the targeted refinement on (all but
# the hypothesis property test, whose examples each compile their own kernels), within the device
# time left.
#
#   device run, carry [".whl"], timeout_s 240:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s27h.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 185 python3 -m pytest tests/kernels/test_attention_fwd.py -q -n 15 --dist worksteal \
    -k "not property" -p no:cacheprovider --junitxml="$OUT/junit.xml" 2>&1 | tail -6
echo "forward tests exit status $?"
