#!/usr/bin/env bash
# The benchmark suite's rows that a -k expression picks, on the GPU, as one device call runs them:
#
#   bash scripts/gpu_suite_rows.sh GRID BUDGET_S ROW_TIMEOUT_S NAME "K_EXPRESSION"
#
# writes $OUT/NAME.json (pytest-benchmark) and prints the suite's [bench] lines and skips. The
# command stops at BUDGET_S + 20 s whatever happens (the device tool's limit is 600 s a call).
set -u
[ $# = 5 ] || { echo "usage: $0 GRID BUDGET_S ROW_TIMEOUT_S NAME K_EXPRESSION" >&2; exit 2; }
grid=$1 budget=$2 row=$3 name=$4 expr=$5
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT $((budget + 20)) python3 -m pytest benchmarks/bench_attention.py --bench-grid="$grid" \
    --bench-budget="$budget" --bench-row-timeout="$row" -k "$expr" \
    --benchmark-json="$OUT/$name.json" -q -p no:cacheprovider -rs 2>&1 | grep -E "^\[bench|passed|failed|error|SKIP"
echo "suite $name exit status ${PIPESTATUS[0]}"  # pytest's (or 124: stopped at the limit)
