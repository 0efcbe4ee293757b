#!/usr/bin/env bash
# Session 21, call D: the H200's fp32 min/max issue rate against FMA in sweep 1's insertion shape
# (benchmarks/gpu_alu_rate.py), to check the estimate that sweep 1's insertion is bound by it.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 180:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s21d.sh
set -u
nvidia-smi --query-gpu=clocks.max.sm,clocks.sm --format=csv
timeout -s INT 120 python3 benchmarks/gpu_alu_rate.py --iters 4096
echo "alu exit status $?"
