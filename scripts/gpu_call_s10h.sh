#!/usr/bin/env bash
# Session 10, call H (~1 min): the listed-row backward after MAP_SKIP_SHARE (16k local: few rows listed, branch-free dK/dV loop): accuracy and
# time at 16k (the last device seconds of the session).
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 240:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s10h.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 200 python3 benchmarks/gpu_listed_bwd.py --points 16384 --skip-accuracy --determinism 5 --out "$OUT/listed.json"
echo "listed exit status $?"
