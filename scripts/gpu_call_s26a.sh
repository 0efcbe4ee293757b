#!/usr/bin/env bash
# Session 26, call A: the fused-dQ backward's tile config at 4k (#4's 4k 'rand' training step).
# ptxas (Triton 3.6, scripts/bwd_regs.py) spills at 64x128/8 warps 2 / 1 / 3 stages: 192 / 308 /
# 296 bytes; 128x64/8/2: 832; 32x128/8/3: 0. Shipped: 64x128/8/2. The default variant runs first
# and last (the machine's drift).
#
#   device run, carry [".whl"], timeout_s 600:
#     bash scripts/gpu_run.sh bash scripts/gpu_call_s26a.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 540 python3 benchmarks/gpu_fused_dq.py --points 4096:rand,4096:local \
    --variants "default;fused=64,128,64,64,8,3;fused=64,128,64,64,8,1;fused=128,64,128,64,8,2;fused=32,128,64,64,8,3;default"
echo "fused_dq exit status $?"
