#!/usr/bin/env bash
# Session 14, call C: outputs and gradients against float64 over calls alternating layouts,
# alignments, dtypes and masks (later rounds replay: attention.REPLAY, attention_bwd.REPLAY), then
# the suite's D=64 and non-causal 4k rows, live beside AdaSplash-2 / -1 and cuDNN.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 560:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s14c.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 170 python3 benchmarks/gpu_checks.py --launch --launch-rounds 3 2>&1 | tail -25
echo "checks exit status $?"
timeout 330 python3 -m pytest benchmarks/bench_attention.py --bench-grid=core --bench-budget=310 \
    -k "D64 or noncausal" --benchmark-json="$OUT/core.json" -q -p no:cacheprovider -rs 2>&1 \
    | grep -E "^\[bench|passed|failed|error"
echo "suite exit status $?"
python3 benchmarks/summarize.py "$OUT/core.json" --out "$OUT" 2>&1 | tail -10
