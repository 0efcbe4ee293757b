#!/usr/bin/env bash
# Session 37, call H (the session's last ~290 s of device time): attention.GATHER_PERSIST (the
# gather launch as a few programs per SM looping over their head's row blocks) against the
# defaults. ptxas (Triton 3.6): the gather kernel with the loop spills 204 bytes at 64 registers
# (some in pass B's loop) against 88 without it, and 84 at 80 registers (6 programs per SM).
#
#   device run, carry [".whl"], timeout_s 230:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s37h.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 170 python3 benchmarks/gpu_knob_ab.py --points 16384:local,16384:rand \
    --variants ";GATHER_PERSIST=6,GATHER_MAXNREG=80;GATHER_PERSIST=8;"
echo "knob_ab exit status $?"
