#!/usr/bin/env bash
# Session 25, call A: the multi-launch forward's replay (attention._MultiPlan, from 16k keys).
# Its tests on the GPU, then REPLAY off / on: do_bench and the idle-stream medians (the suite's
# clock, host time included), then the kernel timeline of one step with the replay.
#
#   device run, carry [".whl"], timeout_s 600:
#     bash scripts/gpu_run.sh bash scripts/gpu_call_s25a.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 150 python3 -m pytest tests/kernels/test_attention_fwd.py -n 8 -q -p no:cacheprovider --tb=short \
    -k "replay or multi_launch" 2>&1 | tail -4
echo "replay tests exit status $?"
timeout -s INT 300 python3 benchmarks/gpu_knob_ab.py --idle --points 16384:rand,16384:local,32768:rand \
    --variants "REPLAY=0;REPLAY=1;REPLAY=0;REPLAY=1"
echo "knob_ab exit status $?"
timeout -s INT 100 python3 benchmarks/gpu_timeline.py --out "$OUT" --cases "infer:rand:16384;train:rand:16384"
echo "timeline exit status $?"
