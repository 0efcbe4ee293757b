#!/usr/bin/env bash
# A short device call (~3 min): re-measure our attention (4k, 16k) and row-wise rows after the
# host-overhead fix (template rendering memoised per parameters), beside cuDNN and softmax, plus
# AdaSplash-2's 16k forward (its first call autotunes for ~1 min).
#
#   device run, carry [".whl"], timeout_s 300:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_mini.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 215 python3 -m pytest benchmarks --bench-grid=core --bench-budget=${BENCH_BUDGET:-195} \
    -k "((adasplash_compile or sdpa_cudnn) and causal and D128 and (N4096 or N16384) and not train_step and not noncausal) or (test_rowwise and (adasplash_compile or softmax)) or (adasplash2 and fwd- and N16384)" \
    --benchmark-json="$OUT/core.json" -q -p no:cacheprovider -rs
