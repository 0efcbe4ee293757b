#!/usr/bin/env bash
# Session 24, call F: the suite's 16k / 32k rows of ours and cuDNN, forward and forward+backward,
# with this session's gather launch (GATHER_SCRATCH, GATHER_PACKED_X) and the fix-up's programs
# per 1024 query rows.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 420:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s24f.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 380 python3 -m pytest benchmarks/bench_attention.py --bench-grid=core --bench-budget=360 \
    -k "not noncausal and D128 and (adasplash_compile or sdpa_cudnn) and (N16384 or N32768)" \
    --benchmark-json="$OUT/core_long.json" -q -p no:cacheprovider -rs 2>&1 | grep -E "^\[bench|passed|failed|error"
echo "suite exit status $?"
