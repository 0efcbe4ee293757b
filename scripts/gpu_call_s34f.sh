#!/usr/bin/env bash
# Session 34, call F: GATHER_WORDS, GATHER_SCAN's lists as one 32-bit word per key (index and x in
# fixed point) instead of an int16 index and a packed float32 x: the dense route's listing stores
# once per key, the gather launch's pass B loads once. do_bench, inference only, alternated twice
# with it off; the max error on the last 256 rows against float64; one inference step's kernel
# timeline at 16k 'rand' each way; the gather / scan / replay tests on the GPU; compute-sanitizer
# memcheck over the small fix-up / gather / scan variants.
#
#   device run, carry [".whl"], timeout_s 560:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s34f.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 130 python3 benchmarks/gpu_knob_ab.py --infer-only --err-rows 256 --points 16384:rand,32768:rand,16384:local \
    --variants "GATHER_WORDS=0;GATHER_WORDS=1;GATHER_WORDS=0;GATHER_WORDS=1"
echo "knob_ab exit status $?"
timeout -s INT 60 python3 benchmarks/gpu_timeline.py --out "$OUT" \
    --cases "infer:rand:16384:GATHER_WORDS=0;infer:rand:16384:GATHER_WORDS=1" 2>&1 | grep -v "host +" | head -30
echo "timeline exit status $?"
timeout -s INT 90 python3 -m pytest tests/kernels/test_attention_fwd.py -q -p no:cacheprovider -n 8 \
    -k "gather_scan or replayed_multi or gather_lists or gather_cap" 2>&1 | tail -3
echo "pytest exit status $?"
timeout -s INT 240 compute-sanitizer --tool memcheck --error-exitcode 9 python3 benchmarks/gpu_checks.py --small --fixup-only 2>&1 | grep -v "^\[small\].* ok$" | tail -6
echo "compute-sanitizer exit status ${PIPESTATUS[0]}"
