#!/usr/bin/env bash
# Session 31, call C: the forward's (b, h) slices as separate forwards on several streams
# (benchmarks/gpu_stream_chunks.py), against one call; bf16 B=2 H=16 D=128 causal, 'rand' / 'local'.
#
#   device run, carry [".whl"], timeout_s 420:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s31c.sh
export ADASPLASH_COMPILE_AUTOTUNE=0
python3 benchmarks/gpu_stream_chunks.py --out "$OUT" --ns 16384,4096,32768 --kinds rand,local --budget 330
