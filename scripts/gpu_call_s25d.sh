#!/usr/bin/env bash
# Session 25, call D: compute-sanitizer memcheck over the small cases through the fix-up and gather
# launches, each case twice (the second call replays the multi-launch plan), then the forward's
# and the backward's test files on the GPU (Triton 3.6), with this session's changes.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 590:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s25d.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 170 compute-sanitizer --tool memcheck python3 benchmarks/gpu_checks.py --small --fixup-only 2>&1 | tail -8
echo "sanitizer exit status ${PIPESTATUS[0]}"
timeout -s INT 190 python3 -m pytest tests/kernels/test_attention_fwd.py -n 15 --dist worksteal -q \
    -p no:cacheprovider --tb=short -rf > "$OUT/fwd_tests.txt" 2>&1
echo "fwd tests exit status $?"
grep -E "FAILED|ERROR" "$OUT/fwd_tests.txt" | head -20
tail -2 "$OUT/fwd_tests.txt"
timeout -s INT 190 python3 -m pytest tests/kernels/test_attention_bwd.py -n 15 --dist worksteal -q \
    -p no:cacheprovider --tb=short -rf > "$OUT/bwd_tests.txt" 2>&1
echo "bwd tests exit status $?"
grep -E "FAILED|ERROR" "$OUT/bwd_tests.txt" | head -20
tail -2 "$OUT/bwd_tests.txt"
