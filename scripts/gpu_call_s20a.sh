#!/usr/bin/env bash
# Session 20, call A: a 4k training step's critical path without a profiler (host marks as events
# on an idle stream), ours through the lean eager Function against the 8-input one, beside
# AdaSplash-2 and cuDNN, plus the engine's single-thread mode as a diagnostic.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 420:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s20a.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 300 python3 benchmarks/gpu_critical_path.py --out "$OUT" --rounds 200
echo "critical path exit status $?"
