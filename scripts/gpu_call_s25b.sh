#!/usr/bin/env bash
# Session 25, call B: where the replayed forward's host time goes before its first kernel
# (cProfile by cumulative and own time, with the timeline), 16k and 4k 'rand' inference.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 300:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s25b.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 200 python3 benchmarks/gpu_timeline.py --out "$OUT" --cprofile \
    --cases "infer:rand:16384;infer:rand:4096"
echo "timeline exit status $?"
