#!/usr/bin/env bash
# Session 19, call H: where a 4k 'local' training step's host time goes (the suite's idle-stream
# median is its kernels plus ~0.21 ms), for the next session: the host breakdown per piece, and a
# cProfile of the step.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 300:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s19h.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 120 python3 benchmarks/gpu_host_breakdown.py --out "$OUT"
echo "host breakdown exit status $?"
timeout -s INT 100 python3 benchmarks/gpu_timeline.py --out "$OUT" --cprofile --cases "infer:local:4096;train:local:4096"
echo "timeline exit status $?"
