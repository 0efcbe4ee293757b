#!/usr/bin/env bash
# (SUBSET_LEAN_EXACT, what part 1 measured, was dropped after this call; the knob no longer exists)
# Session 17, call D: (1) SUBSET_LEAN_EXACT (no per-tile row max for programs the probe calls
# dense, below GATHER_MIN_LK) against off at 4k and 8k, with the error against float64; (2) the
# forward and backward tests that reach sweep 1's dense phase with it on; (3) compute-sanitizer
# memcheck of the small cases with the fix-up and gather at any length (SUBSET_LEAN_DENSE, now
# the default, changes those programs' sweep 1).
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 480:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s17d.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 130 python3 benchmarks/gpu_knob_ab.py --err-rows 256 \
    --points 4096:rand,4096:local,8192:rand,8192:local --variants "SUBSET_LEAN_EXACT=0;SUBSET_LEAN_EXACT=1"
echo "ab exit status $?"
ADASPLASH_TEST_KNOBS="SUBSET_LEAN_EXACT=True" HYPOTHESIS_PROFILE=ci timeout -s INT 110 python3 -m pytest \
    tests/kernels/test_attention_fwd.py tests/kernels/test_attention_bwd.py \
    -k "(subset or near or gather or fixup or general or skipped or dense or refine or tile) and not property" \
    -n 15 --dist worksteal -v -p no:cacheprovider --tb=short -rf > "$OUT/tests.txt" 2>&1
echo "tests exit status $?"
grep -cE "PASSED" "$OUT/tests.txt"
grep -E "FAILED|ERROR" "$OUT/tests.txt" | head -20
tail -2 "$OUT/tests.txt"
timeout 170 compute-sanitizer --tool memcheck python3 benchmarks/gpu_checks.py --small --fixup-only > "$OUT/memcheck.txt" 2>&1
echo "memcheck exit status $?"
tail -8 "$OUT/memcheck.txt"
