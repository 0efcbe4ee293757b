#!/usr/bin/env bash
# Session 32, call C: the dense route's time after τ, finer (call B: 0.89 ms of 5.27 at 16k 'rand'
# after the candidates' τ, 2.14 of 18.6 at 32k). attention.DENSE_STOP: 2 after τ, 3 after the
# listing, 5 the listing without its stores, 6 all but the final output store, 7 τ then every
# candidate tile stored whole (coalesced). Kernel durations from one inference step's timeline.
#
#   device run, carry [".whl"], timeout_s 300:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s32c.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
C=""
for s in 0 2 3 5 6 7; do C="$C;infer:rand:16384:DENSE_STOP=$s"; done
for s in 0 2 3 5 7; do C="$C;infer:rand:4096:GATHER_MIN_LK=4096,FIXUP_MIN_LK=4096,DENSE_STOP=$s"; done
timeout -s INT 250 python3 benchmarks/gpu_timeline.py --out "$OUT" --cases "${C#;}" 2>&1 | grep -E "^\[timeline\] [a-z]|attention_fwd|FAILED"
echo "timeline exit status $?"
