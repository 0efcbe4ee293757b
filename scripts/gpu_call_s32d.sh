#!/usr/bin/env bash
# Session 32, call D: 1) the dense route after τ, the points call C lost (DENSE_STOP 5 crashed
# there: the gather launch read lists it never wrote; fixed); 2) the fix-up launch's key tile
# (FIXUP_BLOCK_N, inference) and warps: at 16k 'rand' the gather launch alone takes 0.77 ms but
# 1.43 beside the fix-up (1.25), so the fix-up bounds the forward's tail; 3) timelines.
#
#   device run, carry [".whl"], timeout_s 500:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s32d.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
C=""
for s in 0 5 6 7; do C="$C;infer:rand:16384:DENSE_STOP=$s"; done
for s in 0 2 3 5 7; do C="$C;infer:rand:4096:GATHER_MIN_LK=4096,FIXUP_MIN_LK=4096,DENSE_STOP=$s"; done
for v in FIXUP_BLOCK_N=128 FIXUP_BLOCK_N=128,FIXUP_WARPS=4 FIXUP_BLOCK_N=256,FIXUP_WARPS=4; do C="$C;infer:rand:16384:$v"; done
timeout -s INT 150 python3 benchmarks/gpu_timeline.py --out "$OUT" --cases "${C#;}" 2>&1 | grep -E "^\[timeline\] [a-z]|attention_fwd|FAILED"
echo "timeline exit status $?"
timeout -s INT 280 python3 benchmarks/gpu_knob_ab.py --err-rows 256 --points 16384:rand,32768:rand,16384:local \
    --variants ";FIXUP_BLOCK_N=128;FIXUP_BLOCK_N=128,FIXUP_WARPS=4;FIXUP_BLOCK_N=256,FIXUP_WARPS=4;FIXUP_WARPS=4;FIXUP_BLOCK_N=128,FIXUP_WARPS=8;"
echo "knob_ab exit status $?"
