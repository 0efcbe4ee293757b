#!/usr/bin/env bash
# Session 18, call L: the final code's general / per-head / dα / eager-shortcut tests on the GPU.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 240:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s18l.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
HYPOTHESIS_PROFILE=ci timeout -s INT 150 python3 -m pytest tests/kernels/test_attention_bwd.py tests/kernels/test_attention_fwd.py \
    -k "not property and (general or head or alpha or dalpha or eager or bitwise)" -n 15 --dist worksteal -v \
    -p no:cacheprovider --tb=short -rf > "$OUT/general_tests.txt" 2>&1
echo "general tests exit status $?"
grep -cE "PASSED" "$OUT/general_tests.txt"
grep -E "FAILED|ERROR" "$OUT/general_tests.txt" | head -20
tail -3 "$OUT/general_tests.txt"
