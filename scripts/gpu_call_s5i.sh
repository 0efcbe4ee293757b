#!/usr/bin/env bash
# Session 5, call I (~3 min, the last of the budget): the dQ pass skipping by the forward's tile map
# (no per-tile verdict in the dK/dV pass) against the dK/dV pass's own verdicts, backward alone at
# 4k/16k; then 32k forward and forward+backward through the public API beside cuDNN.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 200:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s5i.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 175 python3 benchmarks/gpu_bwd_flags.py --out "$OUT"
echo "flags exit status $?"
