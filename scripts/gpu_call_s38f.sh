#!/usr/bin/env bash
# Session 38, call F (ran; PACK_ROWS stays 32 with the skip, see attention_bwd.PACK_ROWS): the listed backward's pack kernel with PACK_ROWS rows per program, 32 at a
# time (chunks with nothing listed skip), against a program per 32 rows (the old grid), alternated;
# then the timelines of 16k training with the new grid.
#
#   device run, carry [".whl"], timeout_s 590:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s38f.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 330 python3 benchmarks/gpu_knob_ab.py --idle \
    --points 16384:local,16384:rand,32768:local \
    --variants ";PACK_ROWS=32;PACK_ROWS=1024;;PACK_ROWS=32"
echo "knob_ab exit status $?"
timeout -s INT 120 python3 benchmarks/gpu_timeline.py --out "$OUT" \
    --cases "train:local:16384;train:rand:16384;train:local:16384:PACK_ROWS=32;train:rand:16384:PACK_ROWS=32" 2>&1 | grep -v "host +" | grep "timeline\] train\|_bwd_" | head -60
echo "timeline exit status $?"
