#!/usr/bin/env bash
# Session 14, call A: replays of the eager host path (attention.REPLAY, attention_bwd.REPLAY): the
# replay tests on the GPU, host time per call on / off, the 4k timelines, and the 4k suite rows
# beside AdaSplash-2 and cuDNN, live.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 600:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s14a.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 120 python3 -m pytest tests/kernels/test_attention_fwd.py tests/kernels/test_attention_bwd.py \
    tests/kernels/test_launch.py -q -x -k "replay or bound or launch_keys" -p no:cacheprovider 2>&1 | tail -3
timeout 120 python3 benchmarks/gpu_replay_ab.py
echo "replay-ab exit status $?"
timeout 60 python3 benchmarks/gpu_timeline.py --out "$OUT" \
    --cases "infer:local:4096;train:local:4096;infer:rand:4096;train:rand:4096" 2>&1 | grep -v "host +"
timeout 300 python3 -m pytest benchmarks/bench_attention.py --bench-grid=core --bench-budget=280 \
    -k "not noncausal and D128 and (adasplash_compile or adasplash2 or sdpa_cudnn) and N4096" \
    --benchmark-json="$OUT/core4k.json" -q -p no:cacheprovider -rs 2>&1 | grep -E "^\[bench|passed|failed|error"
echo "suite exit status $?"
python3 benchmarks/summarize.py "$OUT/core4k.json" --out "$OUT" 2>&1 | tail -12
