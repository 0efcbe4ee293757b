#!/usr/bin/env bash
# Session 12, call A: the fix-up and gather launches below 16k keys (FIXUP_MIN_LK, GATHER_MIN_LK =
# 4096), inference and training, at 4k and 8k, against the defaults (dense output sweep there).
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 560:
#     bash scripts/gpu_run.sh bash scripts/gpu_call_s12a.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 200 python3 benchmarks/gpu_attention_subset.py --out "$OUT" --ns 4096,8192 --budget 90 \
    --configs "subset 64x64/4w,subset fix-up+gather from 4k,subset fix-up+gather from 4k, 1 kernel"
echo "subset exit status $?"
for m in 0 4096; do
    timeout 130 python3 benchmarks/gpu_listed_bwd.py --points 4096,8192 --accuracy-n 4096 --determinism 0 \
        --min-lk $m --out "$OUT/listed-min$m.json"
    echo "listed min-lk $m exit status $?"
done
