#!/usr/bin/env bash
# Session 33, call A (run at commit 9d59379; the knob was removed in 45d201c): a register cap on the
# main launch (attention.MAIN_MAXNREG, ptxas maxnreg) so
# that three 4-warp programs share an SM (168 registers) where 255 allow two: the dense route from
# 16k keys (64 KB of shared memory at 3 stages, 48 KB at 2), and the one launch below 16k at 1 stage
# (32 KB; 3 stages take 112 KB, two programs per SM whatever the registers).
#
#   device run, carry [".whl"], timeout_s 590:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s33a.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 280 python3 benchmarks/gpu_knob_ab.py --err-rows 256 --points 16384:rand,32768:rand,16384:local \
    --variants ";MAIN_MAXNREG=168;FWD_CFG=64x64x4x2,MAIN_MAXNREG=168;"
echo "knob_ab 16k/32k exit status $?"
timeout -s INT 200 python3 benchmarks/gpu_knob_ab.py --err-rows 256 --points 4096:rand,4096:local \
    --variants ";FWD_CFG=64x64x4x1,MAIN_MAXNREG=168;FWD_CFG=64x64x4x1,MAIN_MAXNREG=128;FWD_CFG=64x64x4x1;"
echo "knob_ab 4k exit status $?"
