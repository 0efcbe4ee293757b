#!/usr/bin/env bash
# Session 19, call G: the fused dQ at the other head dims and dtypes (their FUSED_CONFIGS fall back to
# the two-kernel configs), 4k, against the three-kernel backward.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 480:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s19g.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 130 python3 benchmarks/gpu_fused_dq.py --d 64 --points 4096:rand,4096:local \
    --variants "passes;fused;fused=64,128,64,64,8,2;fused=64,64,64,64,8,2"
echo "D=64 exit status $?"
timeout -s INT 70 python3 benchmarks/gpu_fused_dq.py --d 80 --points 4096:rand --variants "passes;fused"
echo "D=80 exit status $?"
timeout -s INT 90 python3 benchmarks/gpu_fused_dq.py --d 256 --points 4096:rand --variants "passes;fused"
echo "D=256 exit status $?"
timeout -s INT 60 python3 benchmarks/gpu_fused_dq.py --dtype float16 --points 4096:rand --variants "passes;fused"
echo "fp16 exit status $?"
timeout -s INT 90 python3 benchmarks/gpu_fused_dq.py --dtype float32 --points 4096:rand --variants "passes;fused"
echo "fp32 exit status $?"
