#!/usr/bin/env bash
# Session 10, call A (~6 min): the backward's listed rows (benchmarks/gpu_listed_bwd.py: accuracy at
# 16k against float64, time at 16k/32k rand/local with and without the lists, 50 backward passes
# bitwise), then compute-sanitizer memcheck over the small cases (GATHER's variants now train
# through the lists).
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 600:
#     bash scripts/gpu_run.sh bash scripts/gpu_call_s10a.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 400 python3 benchmarks/gpu_listed_bwd.py --out "$OUT/listed.json"
echo "listed exit status $?"
timeout 150 compute-sanitizer --tool memcheck python3 benchmarks/gpu_checks.py --small --fixup-only 2>&1 | tail -16
echo "sanitizer exit status ${PIPESTATUS[0]}"
