#!/usr/bin/env bash
# Session 26, call C: 128-key tiles with top-3 candidates per score position at 8 warps (384
# candidates per row against 256; 6 min/max per score in sweep 1's insertion against 8). Session
# 21's float64 simulation: as many rows certified as now (0.49% / 1.56% uncertified at 4k / 16k
# 'rand', now 0.39% / 1.46%); not tried then for registers (192 candidates per thread at 4 warps).
# ptxas (Triton 3.6, scripts/kernel_regs.py): 64x128/8 warps/2 stages top-3 spills 12 bytes
# (single launch) and 168 (the dense route), the shipped 64x64/4/3 top-4 248 and 316.
# The defaults run first and last; outputs and gradients against the first; the output's max
# error on the last 256 rows against float64.
#
#   device run, carry [".whl"], timeout_s 600:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s26c.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 520 python3 benchmarks/gpu_knob_ab.py --err-rows 256 \
    --points 16384:rand,4096:rand,16384:local,4096:local \
    --variants ";FWD_CFG=64x128x8x2,SUBSET_TOPK=3;FWD_CFG=64x128x8x3,SUBSET_TOPK=3;FWD_CFG=64x128x8x2;"
echo "knob_ab exit status $?"
