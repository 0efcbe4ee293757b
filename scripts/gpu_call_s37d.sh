#!/usr/bin/env bash
# Session 37, call D: attention.PAIR_EXACT (sweep 1's unchecked tiles two at a time for the exact
# candidates: the single launch below 16k keys and the sparse route) on / off, alternated twice,
# do_bench and idle-stream medians; then the kernel timeline at 8k 'local' with the gather route
# from 4k keys against the defaults (where session 37 call C's 'local' loss goes).
#
#   device run, carry [".whl"], timeout_s 590:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s37d.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 330 python3 benchmarks/gpu_knob_ab.py --idle --err-rows 256 \
    --points 4096:rand,4096:local,8192:rand,16384:local,16384:rand \
    --variants ";PAIR_EXACT=0;;PAIR_EXACT=0"
echo "knob_ab exit status $?"
timeout -s INT 120 python3 benchmarks/gpu_timeline.py --out "$OUT" \
    --cases "infer:local:8192;infer:local:8192:GATHER_MIN_LK=4096,FIXUP_MIN_LK=4096;train:local:8192;train:local:8192:GATHER_MIN_LK=4096,FIXUP_MIN_LK=4096" 2>&1 | grep -v "host +" | head -80
echo "timeline exit status $?"
