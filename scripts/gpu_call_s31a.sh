#!/usr/bin/env bash
# Session 31, call A: the output sweep as a stand-alone loop at wider tiles (benchmarks/gpu_output_floor.py),
# beside the product's forward, its sweep 1 alone and cuDNN; bf16 B=2 H=16 D=128 causal 'rand', 4k and 16k.
#
#   device run, carry [".whl"], timeout_s 400:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s31a.sh
export ADASPLASH_COMPILE_AUTOTUNE=0
python3 benchmarks/gpu_output_floor.py --out "$OUT" --ns 4096,16384 --budget 300
