#!/usr/bin/env bash
# Session 12, call I (~7 min): the suite with this session's forward (fix-up beside the gather launch
# at 2 warps, a probe of 2 tiles): 4k and 16k beside AdaSplash-2 and cuDNN, live (session 10 call
# D's command), then the 32k rows (ours and cuDNN; AdaSplash-2's autotune there takes ~4 min).
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 600:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s12i.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 400 python3 -m pytest benchmarks/bench_attention.py --bench-grid=core --bench-budget=380 \
    -k "not noncausal and D128 and (adasplash_compile or adasplash2 or sdpa_cudnn) and (N4096 or N16384)" \
    --benchmark-json="$OUT/core.json" -q -p no:cacheprovider -rs
echo "suite exit status $?"
timeout 150 python3 -m pytest benchmarks/bench_attention.py --bench-grid=core --bench-budget=130 \
    -k "N32768 and D128 and not noncausal and (adasplash_compile or sdpa_cudnn)" \
    --benchmark-json="$OUT/core32k.json" -q -p no:cacheprovider -rs
echo "suite 32k exit status $?"
python3 benchmarks/summarize.py "$OUT/core.json" "$OUT/core32k.json" --out "$OUT"
