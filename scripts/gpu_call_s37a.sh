#!/usr/bin/env bash
# Session 37, call A (prepared in session 36): attention.PAIR_MERGE (the dense route's sweep 1 merges
# its unmasked key tiles two at a time into the candidates, 7.5 min/max per score instead of 8 and
# the evicted row max once per two tiles; bitwise the same outputs) against the one-by-one
# insertion, alternated twice, do_bench forward and forward+backward, then the kernel timeline at
# 16k / 32k 'rand' both ways. ptxas (Triton 3.6, CPU, session 36): the inference dense route spills
# 340 bytes with it against 412, none in its sweep loops.
#
#   device run, carry [".whl"], timeout_s 590:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s37a.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 420 python3 benchmarks/gpu_knob_ab.py --err-rows 256 --points 16384:rand,32768:rand,16384:local \
    --variants ";PAIR_MERGE=1;;PAIR_MERGE=1"
echo "knob_ab exit status $?"
timeout -s INT 120 python3 benchmarks/gpu_timeline.py --out "$OUT" \
    --cases "infer:rand:16384;infer:rand:16384:PAIR_MERGE=1;infer:rand:32768;infer:rand:32768:PAIR_MERGE=1" 2>&1 | grep -v "host +" | head -40
echo "timeline exit status $?"
