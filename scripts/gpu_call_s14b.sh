#!/usr/bin/env bash
# Session 14, call B (two H200s): the 2-GPU launch test (inputs on cuda:1 with cuda:0 current), the
# replay tests on the GPU, and where a small training step's host time goes.
#
#   device run, kind nvidia-h200-x2, carry [".whl", ".triton_cache"], timeout_s 600:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s14b.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
nvidia-smi -L
timeout 150 python3 -m pytest tests/kernels/test_launch.py -q -p no:cacheprovider -rs 2>&1 | tail -3
echo "launch tests exit status $?"
timeout 300 python3 -m pytest tests/kernels/test_attention_fwd.py tests/kernels/test_attention_bwd.py -q \
    -k "replay" -p no:cacheprovider -rs 2>&1 | tail -3
echo "replay tests exit status $?"
timeout 100 python3 benchmarks/gpu_replay_ab.py --profile
echo "profile exit status $?"
