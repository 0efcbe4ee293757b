#!/usr/bin/env bash
# Session 22, call E: the forward's tests on the GPU (Triton 3.6 compiling the warm start), then
# the suite's 16k / 32k rows of ours and cuDNN, forward and forward+backward.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 590:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s22e.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 200 python3 -m pytest tests/kernels/test_attention_fwd.py -n 15 --dist worksteal -q \
    -p no:cacheprovider --tb=short -rf > "$OUT/fwd_tests.txt" 2>&1
echo "fwd tests exit status $?"
grep -E "FAILED|ERROR" "$OUT/fwd_tests.txt" | head -20
tail -2 "$OUT/fwd_tests.txt"
timeout -s INT 330 python3 -m pytest benchmarks/bench_attention.py --bench-grid=core --bench-budget=320 \
    -k "not noncausal and D128 and (adasplash_compile or sdpa_cudnn) and (N16384 or N32768)" \
    --benchmark-json="$OUT/core_long.json" -q -p no:cacheprovider -rs 2>&1 | grep -E "^\[bench|passed|failed|error"
echo "suite exit status $?"
