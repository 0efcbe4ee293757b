#!/usr/bin/env bash
# Session 32, call E: the inference fix-up's tile (FIXUP_BLOCK_N), warps and stages (FIXUP_STAGES),
# after call D: 128-key tiles at 4 warps ran the fix-up in 0.96 ms against 1.25, but it started
# 0.48 ms after the gather launch (its shared memory waited for SMs to drain); and the listing's
# ranks from one scan (LIST_PREFIX; ptxas: 708 spill bytes against 316). do_bench A/B against
# the defaults (outputs compared), then timelines of one inference step.
#
#   device run, carry [".whl"], timeout_s 560:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s32e.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
V="FIXUP_BLOCK_N=128,FIXUP_WARPS=4,FIXUP_STAGES=2;FIXUP_BLOCK_N=128,FIXUP_WARPS=8,FIXUP_STAGES=2;FIXUP_WARPS=4;FIXUP_WARPS=4,FIXUP_STAGES=2;FIXUP_BLOCK_N=128,FIXUP_WARPS=4,FIXUP_STAGES=1"
timeout -s INT 330 python3 benchmarks/gpu_knob_ab.py --err-rows 256 --points 16384:rand,32768:rand,16384:local \
    --variants ";$V;LIST_PREFIX=1;"
echo "knob_ab exit status $?"
C="infer:rand:16384"
IFS=';' read -ra VS <<< "$V"
for v in "${VS[@]}"; do C="$C;infer:rand:16384:$v"; done
timeout -s INT 150 python3 benchmarks/gpu_timeline.py --out "$OUT" --cases "$C;infer:rand:16384:LIST_PREFIX=1" 2>&1 | grep -E "^\[timeline\] [a-z]|attention_fwd|FAILED"
echo "timeline exit status $?"
