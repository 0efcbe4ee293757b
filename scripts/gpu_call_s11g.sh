#!/usr/bin/env bash
# Session 11, call G: the backward launches its dense passes before it waits for the listed pairs'
# count (ListedCount; the MAP_SKIP choice follows the share the last backward of the same shapes
# saw). Time and parts at 16k and 32k, 50 backward passes bitwise equal.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 400:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s11g.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 300 python3 benchmarks/gpu_listed_bwd.py --points 16384,32768 --skip-accuracy --determinism 50 --out "$OUT/listed.json"
echo "listed exit status $?"
