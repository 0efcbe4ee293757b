#!/usr/bin/env bash
# Session 32, call A: GATHER_INLINE (the dense route's programs compute the rows they list
# themselves instead of a gather launch after the main launch). Outputs are compared bitwise with
# the defaults' (gpu_knob_ab.py), do_bench medians, and the kernel timelines.
#   1) 4k / 8k: the gather from 4k keys with the inline gather, in one kernel (refinement in the
#      tile) or split with the fix-up launch, against the defaults (dense output sweep) and the
#      gather launch from 4k keys;
#   2) 16k / 32k: inline (unroll 2, 1, 4) against the gather launch;
#   3) timelines of one inference step.
#
#   device run, carry [".whl"], timeout_s 590:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s32a.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 230 python3 benchmarks/gpu_knob_ab.py --err-rows 256 --points 4096:rand,4096:local,8192:rand,8192:local \
    --variants ";GATHER_INLINE=1,GATHER_MIN_LK=4096;GATHER_INLINE=1,GATHER_MIN_LK=4096,FIXUP_MIN_LK=4096;GATHER_MIN_LK=4096;"
echo "knob_ab 4k/8k exit status $?"
timeout -s INT 200 python3 benchmarks/gpu_knob_ab.py --err-rows 256 --points 16384:rand,16384:local,32768:rand \
    --variants ";GATHER_INLINE=1;GATHER_INLINE=1,GATHER_INLINE_UNROLL=1;GATHER_INLINE=1,GATHER_INLINE_UNROLL=4;"
echo "knob_ab 16k/32k exit status $?"
timeout -s INT 120 python3 benchmarks/gpu_timeline.py --out "$OUT" \
    --cases "infer:rand:16384;infer:rand:16384:GATHER_INLINE=1;infer:rand:4096:GATHER_INLINE=1,GATHER_MIN_LK=4096;infer:rand:4096:GATHER_INLINE=1,GATHER_MIN_LK=4096,FIXUP_MIN_LK=4096;infer:rand:4096" \
    2>&1 | grep -v "^ *$" | head -80
echo "timeline exit status $?"
