#!/usr/bin/env bash
# Session 12, call K: the suite's training rows (ours and cuDNN, 4k, 16k, 32k) with the fix-up of the
# training forward back at 4 warps (FIXUP_LISTS_WARPS; call J). AdaSplash-2's were live in call F.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 170:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s12k.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 150 python3 -m pytest benchmarks/bench_attention.py --bench-grid=core --bench-budget=130 \
    -k "fwd_bwd and D128 and not noncausal and (adasplash_compile or sdpa_cudnn) and (N4096 or N16384 or N32768)" \
    --benchmark-json="$OUT/core.json" -q -p no:cacheprovider -rs
echo "suite exit status $?"
