#!/usr/bin/env bash
# Session 32, call B: where the dense route's time goes beyond sweep 1. At 16k 'rand' the dense
# route (main launch) takes ~5.2 ms against 3.94 for the sweep-1-only kernel; attention.DENSE_STOP
# stops it after its sweep (1; 4: the sweep's loops without packing) or after the candidates' τ
# (2). Kernel durations from one inference step's timeline.
#
#   device run, carry [".whl"], timeout_s 400:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s32b.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
C=""
for n in 16384 32768; do
    for s in 0 1 2 4; do C="$C;infer:rand:$n:DENSE_STOP=$s"; done
done
for s in 0 1 2 4; do C="$C;infer:rand:4096:GATHER_MIN_LK=4096,FIXUP_MIN_LK=4096,DENSE_STOP=$s"; done
timeout -s INT 300 python3 benchmarks/gpu_timeline.py --out "$OUT" --cases "${C#;}" 2>&1 | grep -E "^\[timeline\] [a-z]|attention_fwd|FAILED"
echo "timeline exit status $?"
