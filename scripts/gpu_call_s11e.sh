#!/usr/bin/env bash
# Session 11, call E: training with a list cap of 128 against 64 (rows whose support overflows the
# cap take the dense passes' tiles: at 32k 'rand' those passes took 6.7 ms of the backward), at 16k
# and 32k, GATHER_STAGES = 2.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 500:
#     bash scripts/gpu_run.sh bash scripts/gpu_call_s11e.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
for cap in 64 128; do
    timeout 200 python3 benchmarks/gpu_listed_bwd.py --points 16384,32768 --skip-accuracy --determinism 0 --cap $cap \
        --out "$OUT/listed-cap$cap.json"
    echo "listed cap $cap exit status $?"
done
