#!/usr/bin/env bash
# Session 38, call A (ran): where the launches that do little go. Kernel
# timelines of 16k 'local' (inference and training: the dense route's grid whose programs all
# exit, and the gather launch with few rows listed; session 12's training timeline put them at 46
# and 136 µs), of 8k 'rand' with the gather route from 4k keys (session 37 call C: -24% forward),
# and of 4k 'rand' with it (+5%: which launch costs what there).
#
#   device run, carry [".whl"], timeout_s 300:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s38a.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 240 python3 benchmarks/gpu_timeline.py --out "$OUT" \
    --cases "infer:local:16384;train:local:16384;infer:rand:8192:GATHER_MIN_LK=4096,FIXUP_MIN_LK=4096;infer:rand:4096:GATHER_MIN_LK=4096,FIXUP_MIN_LK=4096;infer:rand:4096" 2>&1 | grep -v "host +" | head -120
echo "timeline exit status $?"
