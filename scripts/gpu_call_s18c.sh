#!/usr/bin/env bash
# Session 18, call C: attention.SKEW (the next tile's q·kᵀ issued before this tile's work in
# sweep 1's unchecked loops and the output sweep) against the default, forward and
# forward+backward, outputs and gradients compared, error against float64; then the forward tests
# that reach those loops with SKEW on.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 600:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s18c.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 330 python3 benchmarks/gpu_knob_ab.py --points 4096:rand,4096:local,16384:rand,16384:local,32768:rand \
    --variants "SKEW=0;SKEW=1" --err-rows 256
echo "ab exit status $?"
ADASPLASH_TEST_KNOBS="SKEW=True" HYPOTHESIS_PROFILE=ci timeout -s INT 170 python3 -m pytest tests/kernels/test_attention_fwd.py \
    tests/kernels/test_attention_bwd.py -k "not property and (subset or gather or fixup or general or dense or refine or lengths or lists or route or skipped)" \
    -n 15 --dist worksteal -v -p no:cacheprovider --tb=short -rf > "$OUT/skew_tests.txt" 2>&1
echo "skew tests exit status $?"
grep -cE "PASSED" "$OUT/skew_tests.txt"
grep -E "FAILED|ERROR" "$OUT/skew_tests.txt" | head -20
tail -3 "$OUT/skew_tests.txt"
