#!/usr/bin/env bash
# Session 5, call B (~6 min): 50-pass backward determinism (call A's was cut by its timeout); where
# the host time of a 4k call goes (inference and training step); the backward config sweep at
# D=64; the training sweep at D=128 with the new backward default, 32k included.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 600:
#     bash scripts/gpu_run.sh bash scripts/gpu_call_s5b.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 200 python3 -c "
import json, os, sys
import benchmarks.gpu_attention_bwd as g
json.dump(g.determinism(), open(os.environ['OUT'] + '/determinism.json', 'w'), indent=1)
"
echo "determinism exit status $?"
timeout 120 python3 benchmarks/gpu_host_profile.py --out "$OUT"
echo "profile exit status $?"
timeout 150 python3 benchmarks/gpu_training_sweep.py --out "$OUT" --ns 4096,16384 --fwd "" --head-dim 64 --no-e2e
echo "d64 sweep exit status $?"
