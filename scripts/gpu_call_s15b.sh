#!/usr/bin/env bash
# Session 15, call B: per-head α with the sweep guard (heads with α ≤ 2 make two of the five
# rendered sweeps), forward and training at 4k with the error against float64; the row-wise
# general-α kernel with the SFU's log2 (session 3 call E: α = 1.25 at 0.29 ms, 4096x4096 fp32);
# the GPU tests of general and per-head α.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 560:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s15b.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 150 python3 benchmarks/gpu_head_alpha.py --n 4096
echo "head-alpha exit status $?"
timeout 100 python3 benchmarks/gpu_rowwise_general.py 2>&1 | tail -40
echo "rowwise exit status $?"
timeout 260 python3 -m pytest tests/kernels/test_attention_fwd.py tests/kernels/test_attention_bwd.py \
    tests/kernels/test_entmax_rowwise.py tests/kernels/test_decode.py -q -k "general or per_head or alpha" \
    -p no:cacheprovider -rs 2>&1 | tail -25
echo "tests exit status $?"
