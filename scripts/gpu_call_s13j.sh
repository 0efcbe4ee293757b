#!/usr/bin/env bash
# Session 13, call J: the suite's decode rows and the CUDA-graph replays with the shipped decode
# path (wide weight loads, call I).
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 180:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s13j.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 80 python3 -m pytest benchmarks --bench-grid=core -k decode --bench-budget=70 \
    --benchmark-json="$OUT/decode_suite.json" -q -p no:cacheprovider -rs 2>&1 | tail -2
python3 benchmarks/summarize.py "$OUT/decode_suite.json" --out "$OUT" 2>&1 | grep decode
timeout 60 python3 benchmarks/gpu_decode.py --graphs --shapes 2x16x16x1,8x32x8x1,8x32x8x4 --lengths 4096,32768,131072
echo "graphs exit status $?"
