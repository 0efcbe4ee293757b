#!/usr/bin/env bash
# Session 12, call B: kernel timelines of one step on an idle stream (benchmarks/gpu_timeline.py:
# where the suite's 4k times and the listed backward's fixed cost go), and the inference forward
# with the fix-up and gather below 16k keys at 4k and 8k (call A's run of it stopped on a name).
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 400:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s12b.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
M8="GATHER_MIN_LK=8192,FIXUP_MIN_LK=8192"
timeout 200 python3 benchmarks/gpu_timeline.py --out "$OUT" --cases \
"infer:local:4096;train:local:4096;train:rand:4096;infer:rand:4096;infer:rand:16384;train:local:16384;train:rand:16384;train:local:8192:$M8;train:rand:8192:$M8"
echo "timeline exit status $?"
timeout 150 python3 benchmarks/gpu_attention_subset.py --out "$OUT" --ns 4096,8192 --budget 80 --skip-check \
    --configs "subset 64x64/4w,subset fix-up+gather from 4k,subset fix-up+gather from 4k one kernel"
echo "subset exit status $?"
