#!/usr/bin/env bash
# Session 16, call D: general α on the candidates after call C, with Newton on g^(1/γ) and tiles
# with many missed rows refining in place (FIXUP_MAX_ROWS) instead of the fix-up launch. Times
# 4k (forward and training) and 32k (forward) on an idle GPU, then the general-α tests (xdist).
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 420:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s16d.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 120 python3 benchmarks/gpu_general_alpha.py --n 4096 --train
echo "general 4k exit status $?"
timeout 75 python3 benchmarks/gpu_general_alpha.py --n 32768
echo "general 32k exit status $?"
timeout -s INT 120 python3 -m pytest tests/kernels/test_attention_fwd.py tests/kernels/test_attention_bwd.py \
    -n 14 --dist worksteal -v -p no:cacheprovider --tb=short -rf \
    -k "general or per_head or alpha or low_precision or dalpha or subset or replayed" > "$OUT/tests.txt" 2>&1
echo "tests exit status $?"
grep -cE "PASSED" "$OUT/tests.txt"
grep -E "FAILED|ERROR" "$OUT/tests.txt" | head -20
tail -3 "$OUT/tests.txt"
