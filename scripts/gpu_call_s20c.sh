#!/usr/bin/env bash
# Session 20, call C: the eager wiring (forward launched before the node; the lean Function) on
# the GPU: the backward's, launch and training tests, then the critical path with the variants
# interleaved round by round (ours against session 19's wiring, AdaSplash-2, cuDNN).
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 600:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s20c.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 200 python3 -m pytest tests/kernels/test_attention_bwd.py tests/kernels/test_launch.py \
    tests/test_training.py tests/kernels/test_gpu_frontend.py -n 15 --dist worksteal -v -p no:cacheprovider \
    --tb=short -rf > "$OUT/tests.txt" 2>&1
echo "tests exit status $?"
grep -cE "PASSED" "$OUT/tests.txt"
grep -E "FAILED|ERROR" "$OUT/tests.txt" | head -20
tail -2 "$OUT/tests.txt"
timeout -s INT 330 python3 benchmarks/gpu_critical_path.py --out "$OUT" --rounds 150 --cases local:4096,rand:4096 \
    --variants ours,ours_prev,ours_late,ours_full,adasplash2,cudnn
echo "critical path exit status $?"
