#!/usr/bin/env bash
# Session 3, call C (~9 min): the row-wise sweep (the "top" kernel, _entmax_fwd_top_kernel) and the
# full row-wise report with the peers (issue #2); compute-sanitizer memcheck over the small runs with
# the default forward config (issue #3); the backward config sweep at 4k (issue #4).
#
#   device run, carry [".whl"], timeout_s 590:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s3c.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 230 python3 benchmarks/gpu_rowwise.py --sweep --full --budget-s 90
echo "rowwise exit status $?"
timeout 200 compute-sanitizer --tool memcheck --error-exitcode 9 python3 benchmarks/gpu_checks.py --small --default-config-only
echo "compute-sanitizer exit status $?"
timeout 140 python3 benchmarks/gpu_attention_bwd.py --sweep-only --budget 110 --out "$OUT"
echo "bwd sweep exit status $?"
