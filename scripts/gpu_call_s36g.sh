#!/usr/bin/env bash
# Session 36, call G: the host's share of the suite's medians. The suite's 16k 'rand' forward is
# 0.17-0.22 ms above its do_bench (calls B-E), cuDNN's is not: the host time of each piece of a call
# (gpu_host_breakdown.py), and the idle-stream medians beside do_bench at 4k and 16k (gpu_knob_ab.py
# --idle, defaults only, twice).
#
#   device run, carry [".whl"], timeout_s 590:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s36g.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 120 python3 benchmarks/gpu_host_breakdown.py --out "$OUT" 2>&1 | tail -40
echo "host breakdown exit status $?"
timeout -s INT 200 python3 benchmarks/gpu_knob_ab.py --idle --points 4096:rand,4096:local,16384:rand,16384:local \
    --variants ";"
echo "knob_ab exit status $?"
