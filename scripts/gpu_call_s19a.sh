#!/usr/bin/env bash
# Session 19, call A: the backward's fused dQ (attention_bwd.FUSED_DQ) on the GPU: its tests, then
# an A/B against the three-kernel backward (three configs of the fused dK/dV pass) with accuracy.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 600:
#     bash scripts/gpu_run.sh bash scripts/gpu_call_s19a.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 170 python3 -m pytest tests/kernels/test_attention_bwd.py -k "fused or deterministic" -n 15 \
    --dist worksteal -v -p no:cacheprovider --tb=short -rf > "$OUT/fused_tests.txt" 2>&1
echo "fused tests exit status $?"
grep -cE "PASSED" "$OUT/fused_tests.txt"
grep -E "FAILED|ERROR" "$OUT/fused_tests.txt" | head -20
tail -3 "$OUT/fused_tests.txt"
timeout -s INT 330 python3 benchmarks/gpu_fused_dq.py --accuracy 4096 \
    --points 4096:rand,4096:local,16384:local,16384:rand \
    --variants "passes;fused=32,128,64,64,8,2;fused=64,64,64,64,8,2;fused=64,128,64,64,8,2"
echo "fused-dq A/B exit status $?"
