#!/usr/bin/env bash
# Session 11, call J: host time per call at 4k (the probe), then the suite's 32k rows (ours and
# cuDNN; AdaSplash-2's autotune at 32k takes ~4 min).
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 500:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s11j.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 120 python3 benchmarks/gpu_host_probe.py
echo "probe exit status $?"
timeout 300 python3 -m pytest benchmarks/bench_attention.py --bench-grid=core --bench-budget=270 \
    -k "N32768 and D128 and not noncausal and (adasplash_compile or sdpa_cudnn)" \
    --benchmark-json="$OUT/core.json" -q -p no:cacheprovider -rs
echo "suite exit status $?"
python3 benchmarks/summarize.py "$OUT/core.json" --out "$OUT"
