#!/usr/bin/env bash
# Session 25, call C: the gather tests with the packed-x helper folded (_listed_x); the 8k 'local'
# training step's timeline with the gather launch from 8k keys against without (session 24 call G:
# +39% there, not explained); the suite's 16k / 32k rows of ours and cuDNN with the multi-launch
# replay.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 540:
#     bash scripts/gpu_run.sh bash scripts/gpu_call_s25c.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 150 python3 -m pytest tests/kernels/test_attention_fwd.py -n 8 -q -p no:cacheprovider --tb=short \
    -k "gather or multi_launch" 2>&1 | tail -4
echo "gather tests exit status $?"
timeout -s INT 120 python3 benchmarks/gpu_timeline.py --out "$OUT" \
    --cases "train:local:8192;train:local:8192:GATHER_MIN_LK=8192,FIXUP_MIN_LK=8192;train:rand:8192:GATHER_MIN_LK=8192,FIXUP_MIN_LK=8192"
echo "timeline exit status $?"
timeout -s INT 200 python3 -m pytest benchmarks/bench_attention.py --bench-grid=core --bench-budget=180 \
    -k "not noncausal and D128 and (adasplash_compile or sdpa_cudnn) and (N16384 or N32768)" \
    --benchmark-json="$OUT/core_long.json" -q -p no:cacheprovider -rs 2>&1 | grep -E "bench |passed|failed|error"
echo "suite exit status $?"
