#!/usr/bin/env bash
# Session 19, call E: the fused dQ's accumulator released before the listed rows' kernels: the
# backward's tests, and the A/B with a step's peak memory at 4k / 16k / 32k.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 400:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s19e.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 150 python3 -m pytest tests/kernels/test_attention_bwd.py tests/test_training.py \
    -n 15 --dist worksteal -v -p no:cacheprovider --tb=short -rf > "$OUT/bwd_tests.txt" 2>&1
echo "bwd tests exit status $?"
grep -cE "PASSED" "$OUT/bwd_tests.txt"
grep -E "FAILED|ERROR" "$OUT/bwd_tests.txt" | head -20
tail -2 "$OUT/bwd_tests.txt"
timeout -s INT 150 python3 benchmarks/gpu_fused_dq.py --points 4096:local,16384:local,32768:local \
    --variants "passes;fused"
echo "fused-dq A/B exit status $?"
