#!/usr/bin/env bash
# Session 6, call C (~4 min): host time per piece of a call with and without the cached kernel
# handles (same machine, same process); 50 bitwise-equal backward passes through the handles;
# 32k forward and forward+backward beside cuDNN; compute-sanitizer memcheck of the small runs and
# the launch checks (both through the handles).
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 600:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s6c.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 100 python3 benchmarks/gpu_host_breakdown.py --out "$OUT" 2>&1 | grep -v "^$\|Ordered\|List reduced\|function calls"
echo "host exit status $?"
timeout 150 python3 benchmarks/gpu_checks.py --determinism 50
echo "determinism exit status $?"
timeout 120 python3 benchmarks/gpu_bwd_flags.py --out "$OUT"
echo "flags/32k exit status $?"
timeout 200 compute-sanitizer --tool memcheck python3 benchmarks/gpu_checks.py --small --default-config-only --launch
echo "sanitizer exit status $?"
