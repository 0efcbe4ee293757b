#!/usr/bin/env bash
# Session 19, call D: the fused dQ left out where most rows are listed (MAP_SKIP): the backward's
# tests again, the A/B with peak memory at 16k / 32k, and the suite's 16k / 32k training rows of
# ours and cuDNN.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 600:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s19d.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 150 python3 -m pytest tests/kernels/test_attention_bwd.py tests/kernels/test_launch.py \
    -n 15 --dist worksteal -v -p no:cacheprovider --tb=short -rf > "$OUT/bwd_tests.txt" 2>&1
echo "bwd tests exit status $?"
grep -cE "PASSED" "$OUT/bwd_tests.txt"
grep -E "FAILED|ERROR" "$OUT/bwd_tests.txt" | head -20
tail -2 "$OUT/bwd_tests.txt"
timeout -s INT 150 python3 benchmarks/gpu_fused_dq.py --points 4096:rand,16384:local,16384:rand,32768:local,32768:rand \
    --variants "passes;fused"
echo "fused-dq A/B exit status $?"
timeout -s INT 240 python3 -m pytest benchmarks/bench_attention.py --bench-grid=core --bench-budget=220 \
    -k "not noncausal and D128 and (adasplash_compile or sdpa_cudnn) and (N16384 or N32768) and fwd_bwd" \
    --benchmark-json="$OUT/core_train.json" -q -p no:cacheprovider -rs 2>&1 | grep -E "^\[bench|passed|failed|error"
echo "suite exit status $?"
