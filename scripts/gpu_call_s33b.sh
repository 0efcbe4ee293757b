#!/usr/bin/env bash
# Session 33, call B: the bound on removing the fix-up launch's dense rows (DENSE_STOP=6: the dense
# route's uncertified rows go to no fix-up; outputs wrong there, timing only): do_bench and the
# kernel timeline at 16k and 32k 'rand'.
#
#   device run, carry [".whl"], timeout_s 520:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s33b.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 200 python3 benchmarks/gpu_knob_ab.py --points 16384:rand,32768:rand \
    --variants ";DENSE_STOP=6;;DENSE_STOP=6"
echo "knob_ab exit status $?"
timeout -s INT 200 python3 benchmarks/gpu_timeline.py --out "$OUT" \
    --cases "infer:rand:16384;infer:rand:16384:DENSE_STOP=6;infer:rand:32768;infer:rand:32768:DENSE_STOP=6" 2>&1 \
    | grep -E "^\[timeline\] [a-z]|attention_fwd|FAILED"
echo "timeline exit status $?"
