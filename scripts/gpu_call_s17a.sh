#!/usr/bin/env bash
# Session 17, call A: (1) sweep 1 without the per-tile row max in dense programs
# (attention.SUBSET_LEAN_DENSE) against the default, forward and forward+backward, outputs and
# gradients compared; (2) the property tests (forward: 1000 examples in 8 shards; decode: 200 in 4)
# at the default settings, spread over the cores; (3) the forward tests that reach the dense phase
# (subset / gather / fix-up / general α) with SUBSET_LEAN_DENSE on.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 600:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s17a.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 230 python3 benchmarks/gpu_knob_ab.py --points 4096:rand,4096:local,16384:rand,16384:local,32768:rand \
    --variants "SUBSET_LEAN_DENSE=0;SUBSET_LEAN_DENSE=1"
echo "ab exit status $?"
HYPOTHESIS_PROFILE=gpu timeout -s INT 170 python3 -m pytest tests/kernels/test_attention_fwd.py tests/kernels/test_decode.py \
    -k property -n 14 --dist worksteal -v -p no:cacheprovider --tb=short -rf > "$OUT/property.txt" 2>&1
echo "property exit status $?"
grep -E "PASSED|FAILED|ERROR" "$OUT/property.txt" | sed 's/^\[gw[0-9]*\] //' | sort | uniq -c | head -20
tail -3 "$OUT/property.txt"
ADASPLASH_TEST_KNOBS="SUBSET_LEAN_DENSE=True" HYPOTHESIS_PROFILE=ci timeout -s INT 140 python3 -m pytest tests/kernels/test_attention_fwd.py \
    -k "subset or gather or fixup or general or skipped or dense or refine" -n 14 --dist worksteal -v -p no:cacheprovider \
    --tb=short -rf > "$OUT/lean_tests.txt" 2>&1
echo "lean tests exit status $?"
grep -cE "PASSED" "$OUT/lean_tests.txt"
grep -E "FAILED|ERROR" "$OUT/lean_tests.txt" | head -20
tail -3 "$OUT/lean_tests.txt"
