#!/usr/bin/env bash
# Session 11, call A: call H of session 10 (the listed-row backward after MAP_SKIP_SHARE, 16k) and
# the sort probe (what grouping the pairs by key block would cost).
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 400:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s11a.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 150 python3 benchmarks/gpu_sort_probe.py
echo "probe exit status $?"
timeout 200 python3 benchmarks/gpu_listed_bwd.py --points 16384 --skip-accuracy --determinism 5 --out "$OUT/listed.json"
echo "listed exit status $?"
