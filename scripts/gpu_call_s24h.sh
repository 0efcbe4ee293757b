#!/usr/bin/env bash
# Session 24, call H: compute-sanitizer memcheck over the small forward+backward cases with the
# fix-up and gather launches at any length (the gather's x scratch and packed x are new), then the
# forward's tests on the GPU (Triton 3.6).
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 520:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s24h.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 200 compute-sanitizer --tool memcheck python3 benchmarks/gpu_checks.py --small --fixup-only 2>&1 | tail -16
echo "sanitizer exit status ${PIPESTATUS[0]}"
timeout -s INT 250 python3 -m pytest tests/kernels/test_attention_fwd.py -n 15 --dist worksteal -q \
    -p no:cacheprovider --tb=short -rf > "$OUT/fwd_tests.txt" 2>&1
echo "fwd tests exit status $?"
grep -E "FAILED|ERROR" "$OUT/fwd_tests.txt" | head -20
tail -2 "$OUT/fwd_tests.txt"
