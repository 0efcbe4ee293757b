#!/usr/bin/env bash
# Session 33, call C: GATHER_SCAN (a dense row the candidates missed goes to the gather launch,
# which lists every key at the score positions that can hide the missed key, instead of to the
# fix-up beside it) against the fix-up alone, alternated; its scan at 32 and 64 keys per step;
# the kernel timeline; the forward tests of the gather / fix-up / replay paths on the GPU;
# compute-sanitizer memcheck over the small fix-up / gather variants (now with the scan's).
#
#   device run, carry [".whl"], timeout_s 590:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s33c.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 230 python3 benchmarks/gpu_knob_ab.py --err-rows 256 --points 16384:rand,32768:rand,16384:local \
    --variants "GATHER_SCAN=0;;GATHER_SCAN_KEYS=64;GATHER_SCAN=0;"
echo "knob_ab exit status $?"
timeout -s INT 80 python3 benchmarks/gpu_timeline.py --out "$OUT" \
    --cases "infer:rand:16384;infer:rand:32768" 2>&1 | grep -E "^\[timeline\] [a-z]|attention_fwd|FAILED"
echo "timeline exit status $?"
timeout -s INT 120 compute-sanitizer --tool memcheck --error-exitcode 9 python3 benchmarks/gpu_checks.py --small --fixup-only 2>&1 | grep -v "^\[small\].* ok$" | tail -6
echo "compute-sanitizer exit status $?"
timeout -s INT 130 python3 -m pytest tests/kernels/test_attention_fwd.py -q -x -p no:cacheprovider -n 8 \
    -k "gather_scan or gather_lists or gather_cap or replay or fixup" 2>&1 | tail -4
echo "pytest exit status $?"
