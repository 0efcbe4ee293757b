#!/usr/bin/env bash
# Session 10, call C (~3 min): the listed-row backward after FIXUP_LISTS (the fix-up lists its rows),
# the map test before the dK/dV tile scores, the listed dK/dV kernel reading CHUNK rows per load: accuracy at 16k, time and parts at 16k/32k,
# a sweep of the listed kernels' configs at 16k 'rand', 50 backward passes bitwise.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 600:
#     bash scripts/gpu_run.sh bash scripts/gpu_call_s10c.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 540 python3 benchmarks/gpu_listed_bwd.py --sweep --out "$OUT/listed.json"
echo "listed exit status $?"
