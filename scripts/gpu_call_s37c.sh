#!/usr/bin/env bash
# Session 37, call C: the gather route (the main launch's sparse / dense routes, the fix-up beside
# the gather launch) from 4k keys instead of 16k, now that the dense route is cheaper
# (PAIR_MERGE, DENSE_OWN_ROWS): GATHER_MIN_LK and FIXUP_MIN_LK at 4096 against the defaults,
# alternated twice, do_bench and idle-stream medians, at 4k and 8k, 'rand' and 'local'.
#
#   device run, carry [".whl"], timeout_s 590:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s37c.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 400 python3 benchmarks/gpu_knob_ab.py --idle --err-rows 256 \
    --points 4096:rand,4096:local,8192:rand,8192:local \
    --variants ";GATHER_MIN_LK=4096,FIXUP_MIN_LK=4096;;GATHER_MIN_LK=4096,FIXUP_MIN_LK=4096"
echo "knob_ab exit status $?"
