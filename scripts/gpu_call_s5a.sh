#!/usr/bin/env bash
# Session 5, call A (~8 min): the backward with interior tiles free of bounds/causal tests, checked
# on the GPU (gradients against float64 through the public op, 50-pass determinism), then the
# training sweep: forward-with-O₂ configs and backward configs (separate dK/dV and dQ warps), bf16
# D=128 causal, 4k and 16k, rand and local, and forward+backward with the best beside cuDNN.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 600:
#     bash scripts/gpu_run.sh bash scripts/gpu_call_s5a.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 150 python3 -c "
import json, os, sys
sys.argv = ['x']
import benchmarks.gpu_attention_bwd as g
rows = g.correctness()
det = g.determinism()
json.dump(dict(correctness=rows, determinism=det), open(os.environ['OUT'] + '/bwd_checks.json', 'w'), indent=1, default=str)
"
echo "checks exit status $?"
timeout 400 python3 benchmarks/gpu_training_sweep.py --out "$OUT" --ns 4096,16384
echo "sweep exit status $?"
