#!/usr/bin/env bash
# Session 15, call A: the SFU's lg2.approx for every kernel log2 (_log2.jinja; tl.log2 lowered to
# libdevice's exact log2f, ~35 instructions per score and probe). General-α forward time by
# refinement sweeps, per-head α forward / training and error against float64, and the GPU tests of
# general and per-head α.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 560:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s15a.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 150 python3 benchmarks/gpu_general_alpha.py --n 4096
echo "general exit status $?"
timeout 150 python3 benchmarks/gpu_head_alpha.py --n 4096
echo "head-alpha exit status $?"
timeout 220 python3 -m pytest tests/kernels/test_attention_fwd.py tests/kernels/test_attention_bwd.py \
    tests/kernels/test_entmax_rowwise.py tests/kernels/test_decode.py -q -x -k "general or per_head or alpha" \
    -p no:cacheprovider -rs 2>&1 | tail -15
echo "tests exit status $?"
