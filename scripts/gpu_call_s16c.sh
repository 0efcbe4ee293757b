#!/usr/bin/env bash
# Session 16, call C: general α on the candidates ("subset", SUBSET_GENERAL). Times first, on an
# idle GPU: 4k forward and forward+backward against the histogram kernel it replaces, and the
# 32k forward; then the general-α / per-head-α / dα tests, spread over the cores (pytest-xdist,
# carried in .whl/) since compiling is what takes the time.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 480:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s16c.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 170 python3 benchmarks/gpu_general_alpha.py --n 4096 --train --histogram
echo "general 4k exit status $?"
timeout 60 python3 benchmarks/gpu_general_alpha.py --n 32768
echo "general 32k exit status $?"
timeout -s INT 170 python3 -m pytest tests/kernels/test_attention_fwd.py tests/kernels/test_attention_bwd.py \
    -n 14 --dist worksteal -v -p no:cacheprovider --tb=short -rf \
    -k "general or per_head or alpha or low_precision or dalpha or subset or replayed" > "$OUT/tests.txt" 2>&1
echo "tests exit status $?"
grep -cE "PASSED" "$OUT/tests.txt"
grep -E "FAILED|ERROR" "$OUT/tests.txt" | head -20
tail -3 "$OUT/tests.txt"
