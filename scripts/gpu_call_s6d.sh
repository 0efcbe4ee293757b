#!/usr/bin/env bash
# Session 6, call D (~6 min): compute-sanitizer memcheck of the launch checks, two rounds (the
# second through the cached compiled-kernel handles); call C's memcheck ran out of time before its
# summary line.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 480:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s6d.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 420 compute-sanitizer --tool memcheck python3 benchmarks/gpu_checks.py --launch --launch-rounds 2
echo "sanitizer exit status $?"
