#!/usr/bin/env bash
# Session 13, call F: decode rows of the benchmark suite (ours, SDPA flash / cuDNN, the entmax
# package; N = 4k, 32k, 128k; rand and local), the output kernel's key block (32 / 64 / 128), and
# kernel timelines at 1k-2k keys against the fused kernel (where the decode path should start).
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 600:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s13f.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 240 python3 -m pytest benchmarks --bench-grid=core -k decode --bench-budget=220 \
    --benchmark-json="$OUT/decode_suite.json" -q -p no:cacheprovider -rs 2>&1 | tail -40
python3 benchmarks/summarize.py "$OUT/decode_suite.json" --out "$OUT" 2>&1 | tail -30
timeout 150 python3 benchmarks/gpu_decode.py --lengths 32768,131072 --shapes 2x16x16x1,8x32x8x4 \
    --variants "OUTPUT_BLOCK_N=32;OUTPUT_BLOCK_N=128" --idle-reps 20 --growing-lk 0 --out "$OUT"
echo "decode exit status $?"
timeout 80 python3 benchmarks/gpu_timeline.py --out "$OUT" \
    --cases "decode:2x16x16x1:1024;decode:2x16x16x1:1024:MAX_ROWS=0;decode:2x16x16x1:2048;decode:2x16x16x1:2048:MAX_ROWS=0;decode:8x32x8x1:2048;decode:8x32x8x1:2048:MAX_ROWS=0"
echo "timeline exit status $?"
