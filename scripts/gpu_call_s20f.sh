#!/usr/bin/env bash
# Session 20, call F (and G, after F found Triton 3.6 rejecting a NaN global constexpr): NaN propagation in the forward, decode and row-wise kernels (sweep 1's row
# max keeps NaN). The suite's rows of ours at 4k (forward and training) and 16k (forward), against
# call E's and session 17/19's, then the NaN tests and a few forward tests on the GPU.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 360:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s20f.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 200 python3 -m pytest benchmarks/bench_attention.py --bench-grid=core --bench-budget=180 \
    -k "not noncausal and D128 and adasplash_compile and (N4096 or (N16384 and fwd-))" \
    --benchmark-json="$OUT/ours.json" -q -p no:cacheprovider -rs 2>&1 | grep -E "^\[bench|passed|failed|error"
echo "suite exit status $?"
timeout -s INT 110 python3 -m pytest tests/kernels/test_attention_fwd.py tests/kernels/test_decode.py \
    tests/kernels/test_entmax_rowwise.py -k "nan or lengths or fully_masked or low_precision_fa" -n 15 \
    --dist worksteal -q -p no:cacheprovider --tb=short -rf > "$OUT/tests.txt" 2>&1
echo "tests exit status $?"
grep -E "FAILED|ERROR" "$OUT/tests.txt" | head -20
tail -2 "$OUT/tests.txt"
