#!/usr/bin/env bash
# Session 13, call B: the decode path (kernels/decode.py). Correctness against float64 and the fused
# kernel, a compute-sanitizer memcheck of it at small lengths, then decode steps timed against the
# fused kernel (MAX_ROWS=0) and SDPA.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 600:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s13b.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 150 python3 benchmarks/gpu_decode.py --check
echo "check exit status $?"
timeout 150 compute-sanitizer --tool memcheck python3 benchmarks/gpu_decode.py --check --check-lengths 1024,1500 2>&1 | tail -14
echo "sanitizer exit status ${PIPESTATUS[0]}"
timeout 240 python3 benchmarks/gpu_decode.py --variants "MAX_ROWS=0" --out "$OUT"
echo "decode exit status $?"
