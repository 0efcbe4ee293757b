#!/usr/bin/env bash
# Session 14, call H: the general-α forward (α = 1.7) at 4k with 8 warps, where ptxas (Triton 3.9,
# scripts/kernel_regs.py) reports 144 bytes of spills against 1188 at 4 warps (call G: 34.5 ms on
# 'rand' with 4 warps). Forward only, with the error against float64.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 300:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s14h.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 270 python3 benchmarks/gpu_fwd_configs.py --alpha 1.7 --fwd-only --points 4096:rand,4096:local \
    --variants "64x64x8x3;64x64x8x2;64x64x4x3"
echo "configs exit status $?"
