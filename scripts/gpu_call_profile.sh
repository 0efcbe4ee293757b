#!/usr/bin/env bash
# One device call (~6 min): quick GPU check of the attention forward, its per-sweep profile (and
# the split for 4 launch configs), then the suite's rows of our attention kernels (fwd, fwd_bwd,
# e2e train step).
#
#   device run, carry [".whl"], timeout_s 500:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_profile.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=${ADASPLASH_COMPILE_AUTOTUNE:-0}
mkdir -p "$OUT/fwd"
timeout 240 python3 benchmarks/gpu_attention_fwd.py --quick-check --skip-time --profile-configs --out "$OUT/fwd"
timeout 170 python3 -m pytest benchmarks --bench-grid=core --bench-budget=140 \
    -k "adasplash_compile and causal and (N4096 or N16384 or train_step)" \
    --benchmark-json="$OUT/core.json" -q -p no:cacheprovider -rs
