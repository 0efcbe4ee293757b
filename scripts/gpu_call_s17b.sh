#!/usr/bin/env bash
# Session 17, call B: (1) SUBSET_LEAN_DENSE for the packed (GATHER) programs only, against off,
# with the forward's error against float64 on the last 256 rows; (2) the forward's property test
# (480 examples in 16 shards) at the new defaults, spread over the cores; (3) the gather / lists /
# fix-up / route tests of the forward and backward at the new defaults.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 600:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s17b.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 190 python3 benchmarks/gpu_knob_ab.py --err-rows 256 \
    --points 16384:rand,16384:local,32768:rand,32768:local,4096:rand --variants "SUBSET_LEAN_DENSE=0;SUBSET_LEAN_DENSE=1"
echo "ab exit status $?"
HYPOTHESIS_PROFILE=gpu timeout -s INT 250 python3 -m pytest tests/kernels/test_attention_fwd.py -k property \
    -n 16 --dist worksteal -v -p no:cacheprovider --tb=short -rf --durations=20 > "$OUT/property.txt" 2>&1
echo "property exit status $?"
grep -E "PASSED|FAILED|ERROR" "$OUT/property.txt" | grep -c PASSED
grep -E "FAILED|ERROR" "$OUT/property.txt" | head
grep -E "s call " "$OUT/property.txt" | head -20
tail -2 "$OUT/property.txt"
HYPOTHESIS_PROFILE=ci timeout -s INT 100 python3 -m pytest tests/kernels/test_attention_fwd.py tests/kernels/test_attention_bwd.py \
    -k "gather or lists or fixup or route or dense" -n 15 --dist worksteal -v -p no:cacheprovider --tb=short -rf > "$OUT/tests.txt" 2>&1
echo "tests exit status $?"
grep -cE "PASSED" "$OUT/tests.txt"
grep -E "FAILED|ERROR" "$OUT/tests.txt" | head -20
tail -2 "$OUT/tests.txt"
