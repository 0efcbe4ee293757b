#!/usr/bin/env bash
# Session 5, calls E and F (~2 min each; F adds the engine comparisons): host time per piece of an entmax_attention call (kernel launches,
# our launchers, the eager autograd path), at a size where the host, not the GPU, sets the pace.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 240:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s5e.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 200 python3 benchmarks/gpu_host_breakdown.py --out "$OUT"
echo "breakdown exit status $?"
