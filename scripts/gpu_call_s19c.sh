#!/usr/bin/env bash
# Session 19, call C: the final fused dQ (α = 1.5 / 2 / float α; a per-head α keeps the dQ pass):
# the backward's, launch and training tests on the GPU, the 4k training timeline, and the 4k suite
# rows beside AdaSplash-2 and cuDNN, live.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 600:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s19c.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 170 python3 -m pytest tests/kernels/test_attention_bwd.py tests/kernels/test_launch.py \
    tests/test_training.py -n 15 --dist worksteal -v -p no:cacheprovider --tb=short -rf > "$OUT/bwd_tests.txt" 2>&1
echo "bwd tests exit status $?"
grep -cE "PASSED" "$OUT/bwd_tests.txt"
grep -E "FAILED|ERROR" "$OUT/bwd_tests.txt" | head -20
tail -2 "$OUT/bwd_tests.txt"
timeout 60 python3 benchmarks/gpu_timeline.py --out "$OUT" --cases "train:rand:4096;train:local:4096" 2>&1 | grep -v "host +"
timeout -s INT 300 python3 -m pytest benchmarks/bench_attention.py --bench-grid=core --bench-budget=280 \
    -k "not noncausal and D128 and (adasplash_compile or adasplash2 or sdpa_cudnn) and N4096" \
    --benchmark-json="$OUT/core4k.json" -q -p no:cacheprovider -rs 2>&1 | grep -E "^\[bench|passed|failed|error"
echo "suite exit status $?"
python3 benchmarks/summarize.py "$OUT/core4k.json" --out "$OUT" 2>&1 | tail -14
