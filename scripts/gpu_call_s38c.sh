#!/usr/bin/env bash
# Session 38, call C (ran; the queue was dropped, see attention.GATHER_SPLIT): ROUTE_QUEUE for the gather launch alone (call B: the persistent dense route
# cost 'rand' 8-13%), its programs striding over the queued row blocks (no atomics), against the
# full grid; with more programs per SM and a looser register cap. do_bench and idle medians.
#
#   device run, carry [".whl"], timeout_s 590:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s38c.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 330 python3 benchmarks/gpu_knob_ab.py --idle --err-rows 256 \
    --points 16384:local,16384:rand,32768:rand \
    --variants ";ROUTE_QUEUE=0;GATHER_QUEUE_PER_SM=16;GATHER_MAXNREG=80;;ROUTE_QUEUE=0"
echo "knob_ab exit status $?"
timeout -s INT 90 python3 benchmarks/gpu_timeline.py --out "$OUT" \
    --cases "infer:local:16384;infer:rand:16384;infer:rand:16384:ROUTE_QUEUE=0" 2>&1 | grep -v "host +" | grep -v "Memset\|elementwise\|cub::\|Memcpy\|reduce_kernel\|CatArray\|searchsorted\|index_" | head -60
echo "timeline exit status $?"
