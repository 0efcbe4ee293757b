#!/usr/bin/env bash
# Session 21, call A: sweep 1's top-4 insertion under Triton's automatic warp specialization
# (K through a tensor descriptor; 128-row programs split between two consumer warpgroups and a
# TMA producer) against the same probe without it and the pointer-based probe, beside cuDNN's
# forward. Call A ran benchmarks/gpu_sweep1_ws.py
# (commit e271ecc); those probes are now gpu_sweep1_floor.py --ws, which the line below runs.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 360:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s21a.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 300 python3 benchmarks/gpu_sweep1_floor.py --ws --out "$OUT" --ns 4096,16384 --budget 270
echo "ws probe exit status $?"
