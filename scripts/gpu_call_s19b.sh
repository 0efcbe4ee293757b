#!/usr/bin/env bash
# Session 19, call B: FUSED_DQ on by default (its dα row sums for a per-head α too): the backward's
# and training's tests on the GPU, 50 passes in deterministic mode, and the A/B for general α.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 600:
#     bash scripts/gpu_run.sh bash scripts/gpu_call_s19b.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 200 python3 -m pytest tests/kernels/test_attention_bwd.py tests/test_training.py -n 15 \
    --dist worksteal -v -p no:cacheprovider --tb=short -rf > "$OUT/bwd_tests.txt" 2>&1
echo "bwd tests exit status $?"
grep -cE "PASSED" "$OUT/bwd_tests.txt"
grep -E "FAILED|ERROR" "$OUT/bwd_tests.txt" | head -20
tail -3 "$OUT/bwd_tests.txt"
timeout -s INT 60 python3 benchmarks/gpu_checks.py --determinism 50
echo "determinism exit status $?"
timeout -s INT 150 python3 benchmarks/gpu_fused_dq.py --alpha 1.3..2.0 --accuracy 4096 \
    --points 4096:rand,4096:local --variants "passes;fused=32,128,64,64,8,2;fused=64,128,64,64,8,2"
echo "per-head A/B exit status $?"
timeout -s INT 100 python3 benchmarks/gpu_fused_dq.py --alpha 1.25 \
    --points 4096:rand --variants "passes;fused=32,128,64,64,8,2;fused=64,128,64,64,8,2"
echo "α=1.25 A/B exit status $?"
timeout -s INT 60 python3 benchmarks/gpu_fused_dq.py --points 4096:rand,8192:rand --variants "passes;fused"
echo "α=1.5 defaults exit status $?"
