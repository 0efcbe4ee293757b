#!/usr/bin/env bash
# Session 16, call E: the fixes and the forward after calls A-D on the GPU, spread over the cores:
# the decode tests (the one-head per-head-α fix and its property test), the skipped-tiles backward
# test (its length now follows the device's tiles), and the forward's tests (general α "subset").
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 200:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s16e.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0 HYPOTHESIS_PROFILE=ci
timeout -s INT 165 python3 -m pytest tests/kernels/test_decode.py tests/kernels/test_attention_fwd.py \
    "tests/kernels/test_attention_bwd.py::test_sparse_scores_with_skipped_tiles_still_match" \
    -n 15 --dist worksteal -v -p no:cacheprovider --tb=short -rf > "$OUT/tests.txt" 2>&1
echo "tests exit status $?"
grep -cE "PASSED" "$OUT/tests.txt"
grep -E "FAILED|ERROR" "$OUT/tests.txt" | head -20
tail -3 "$OUT/tests.txt"
