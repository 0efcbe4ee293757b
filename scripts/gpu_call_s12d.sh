#!/usr/bin/env bash
# Session 12, call D: CUDA-graph capture of inference and training with the fix-up in order and
# beside the gather launch, with a sync-debug run (call C's capture of a training step failed);
# the concurrency times again; the host side of the 16k inference call (timeline, cProfile).
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 500:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s12d.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 300 python3 benchmarks/gpu_concurrency.py --out "$OUT" --determinism 10
echo "concurrency exit status $?"
timeout 120 python3 benchmarks/gpu_timeline.py --out "$OUT" --cprofile --cases "infer:rand:16384;infer:rand:4096;train:rand:4096"
echo "timeline exit status $?"
