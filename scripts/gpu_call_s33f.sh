#!/usr/bin/env bash
# Session 33, call F: the shipped GATHER_SCAN (lists of GATHER_SCAN_CAP = 128, 32 keys per scan
# step) against the scan off, alternated, at 16k / 32k 'rand', 16k 'local' and 4k 'rand' (no
# gather there: unchanged); the forward tests of the gather / scan / replay paths on the GPU.
#
#   device run, carry [".whl"], timeout_s 400:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s33f.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 170 python3 benchmarks/gpu_knob_ab.py --err-rows 256 --points 16384:rand,32768:rand,16384:local,4096:rand \
    --variants ";GATHER_SCAN=0;;GATHER_SCAN=0"
echo "knob_ab exit status $?"
timeout -s INT 100 python3 -m pytest tests/kernels/test_attention_fwd.py -q -p no:cacheprovider -n 8 \
    -k "gather_scan or replayed_multi or gather_lists or gather_cap" 2>&1 | tail -3
echo "pytest exit status $?"
