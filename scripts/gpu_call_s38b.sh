#!/usr/bin/env bash
# Session 38, call B (ran; the queue was dropped, see attention.GATHER_SPLIT): attention.ROUTE_QUEUE (the sparse launch queues its dense programs; the dense
# launch and the gather launch run persistent grids over the queue) on / off, alternated twice,
# do_bench and idle-stream medians, at 16k and 32k; then the gather route from 8k keys with the
# queue and without it against the defaults at 8k; then the kernel timelines of 16k 'local' with it.
#
#   device run, carry [".whl"], timeout_s 590:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s38b.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 300 python3 benchmarks/gpu_knob_ab.py --idle --err-rows 256 \
    --points 16384:local,16384:rand,32768:local,32768:rand \
    --variants ";ROUTE_QUEUE=0;;ROUTE_QUEUE=0"
echo "knob_ab exit status $?"
timeout -s INT 150 python3 benchmarks/gpu_knob_ab.py --idle --err-rows 256 \
    --points 8192:local,8192:rand \
    --variants ";GATHER_MIN_LK=8192,FIXUP_MIN_LK=8192;GATHER_MIN_LK=8192,FIXUP_MIN_LK=8192,ROUTE_QUEUE=0;"
echo "knob_ab 8k exit status $?"
timeout -s INT 90 python3 benchmarks/gpu_timeline.py --out "$OUT" \
    --cases "infer:local:16384;train:local:16384;infer:rand:16384" 2>&1 | grep -v "host +" | grep -v "Memset\|elementwise\|cub::\|Memcpy\|reduce_kernel\|CatArray\|searchsorted\|index_" | head -60
echo "timeline exit status $?"
