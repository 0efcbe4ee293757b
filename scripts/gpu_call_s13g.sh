#!/usr/bin/env bash
# Session 13, call G: the decode path as shipped (output key blocks of 32): correctness against
# float64 and the fused kernel, memcheck, the suite's decode rows, and do_bench / idle-stream /
# growing-cache timings against the fused kernel and SDPA.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 600:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s13g.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 100 python3 benchmarks/gpu_decode.py --check --check-lengths 1024,1500,5000,12000
echo "check exit status $?"
timeout 80 compute-sanitizer --tool memcheck python3 benchmarks/gpu_decode.py --check --check-lengths 1024 2>&1 | tail -8
echo "sanitizer exit status ${PIPESTATUS[0]}"
timeout 90 python3 -m pytest benchmarks --bench-grid=core -k decode --bench-budget=80 \
    --benchmark-json="$OUT/decode_suite.json" -q -p no:cacheprovider -rs 2>&1 | tail -3
python3 benchmarks/summarize.py "$OUT/decode_suite.json" --out "$OUT" 2>&1 | grep decode
timeout 120 python3 benchmarks/gpu_decode.py --lengths 4096,32768,131072 --shapes 2x16x16x1,8x32x8x1,8x32x8x4 \
    --variants "MAX_ROWS=0" --idle-reps 30 --out "$OUT"
echo "decode exit status $?"
