#!/usr/bin/env bash
# Session 26, call D: the forward's table config against neighbours ptxas (Triton 3.6,
# scripts/kernel_regs.py, the 4k single launch) spills less in: 64x64/4 warps with 2 stages (16
# bytes, the table's 3 stages: 248), 64x32/4/3 (0: half the candidates per row), 32x64/4/3
# (148). The defaults run first and last; outputs and gradients against the first; the output's
# max error on the last 256 rows against float64.
#
#   device run, carry [".whl"], timeout_s 420:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s26d.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 300 python3 benchmarks/gpu_knob_ab.py --err-rows 256 \
    --points 4096:rand,16384:rand,4096:local,16384:local \
    --variants ";FWD_CFG=64x64x4x2;FWD_CFG=64x32x4x3;FWD_CFG=32x64x4x3;"
echo "knob_ab exit status $?"
