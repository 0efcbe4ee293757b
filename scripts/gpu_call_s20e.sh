#!/usr/bin/env bash
# Session 20, call E: the host path trimmed before the forward's launch (argument checks without
# numbers.Real's ABC check, the plain-eager test without a generator, use_triton without building a
# device); the frontend, launch and training tests; the 4k critical path (inference and training,
# marks off and on); and the suite's 4k rows of the three libraries, live, in one run.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 600:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s20e.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 110 python3 -m pytest tests/kernels/test_gpu_frontend.py tests/kernels/test_launch.py \
    tests/test_training.py -n 15 --dist worksteal -q -p no:cacheprovider --tb=short -rf > "$OUT/tests.txt" 2>&1
echo "tests exit status $?"
tail -3 "$OUT/tests.txt"
timeout -s INT 150 python3 benchmarks/gpu_critical_path.py --out "$OUT" --rounds 120 --cases local:4096 \
    --variants ours_infer,adasplash2_infer,cudnn_infer,ours,ours_late,adasplash2,cudnn
echo "critical path exit status $?"
timeout -s INT 290 python3 -m pytest benchmarks/bench_attention.py --bench-grid=core --bench-budget=260 \
    -k "not noncausal and D128 and (adasplash_compile or adasplash2 or sdpa_cudnn) and N4096" \
    --benchmark-json="$OUT/core4k.json" -q -p no:cacheprovider -rs 2>&1 | grep -E "^\[bench|passed|failed|error"
echo "suite exit status $?"
python3 benchmarks/summarize.py "$OUT/core4k.json" --out "$OUT" 2>&1 | tail -14
