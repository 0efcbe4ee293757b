#!/usr/bin/env bash
# Session 27, call F: what the in-tile refinement costs below 16k keys (~0.11 ms of the 4k 'rand'
# forward by call D's difference of kernels with and without its code): its own sweeps, or its
# code's effect on the rest of the kernel (ptxas: 248 bytes of spills with it, 8 without)?
# benchmarks/gpu_general_phases.py's new "skiprefine" column keeps the code and skips the sweeps.
#
#   device run, carry [".whl"], timeout_s 300:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s27f.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 200 python3 benchmarks/gpu_general_phases.py --n 4096 8192 --alphas 1.5 2.0 --inputs rand local 2>&1 \
    | grep "^\[phases\]"
echo "phases exit status $?"
