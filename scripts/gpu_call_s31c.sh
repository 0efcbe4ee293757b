#!/usr/bin/env bash
# Session 31, call C: the inference forward's (batch, head) pairs as FWD_CHUNKS launch sequences on
# FWD_STREAMS streams (attention.FWD_CHUNKS), against one sequence; do_bench and idle-stream medians,
# outputs compared bitwise (benchmarks/gpu_knob_ab.py); bf16 B=2 H=16 D=128 causal. It ran at commit
# 0b88310; the knob was then dropped (slower at every point: h200-2026-12-03-session31.md).
#
#   device run, carry [".whl"], timeout_s 300:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s31c.sh
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 200 python3 benchmarks/gpu_knob_ab.py --idle --points 16384:rand,16384:local,32768:rand \
    --variants ";FWD_CHUNKS=2;FWD_CHUNKS=4;FWD_CHUNKS=8;"
