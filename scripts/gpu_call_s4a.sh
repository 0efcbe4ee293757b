#!/usr/bin/env bash
# Session 4, call A (~8 min): the forward's sweep-1 modes on the H200, "elem" histogram (the old
# default) against the "subset" candidates in four launch configs, beside cuDNN in the same
# process: bf16 checks against float64 (4k all rows, 16k last 512 rows), then forward timings at
# 4k/16k/32k, rand and local (issue #3).
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 600:
#     bash scripts/gpu_run.sh bash scripts/gpu_call_s4a.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 540 python3 benchmarks/gpu_attention_subset.py --out "$OUT" --budget 330
echo "subset exit status $?"
