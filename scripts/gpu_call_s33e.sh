#!/usr/bin/env bash
# Session 33, call E: GATHER_SCAN with the flagged score positions as a 64-bit mask (any number of
# them), at lists of 64 and 128: which rows the fix-ups still get (gpu_scan_rows.py), do_bench A/B
# against the scan off, the kernel timeline, compute-sanitizer memcheck over the small fix-up /
# gather variants (the scan's included).
# (At this call `--cap` set attention.GATHER_CAP, the one list length then; since b168a46 it sets
# GATHER_SCAN_CAP, the scan's own.)
#
#   device run, carry [".whl"], timeout_s 590:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s33e.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 60 python3 benchmarks/gpu_scan_rows.py --points 16384:rand,32768:rand --sample 64 2>&1 | grep "scan=1"
timeout -s INT 60 python3 benchmarks/gpu_scan_rows.py --points 16384:rand,32768:rand --sample 64 --cap 128 2>&1 | grep "scan=1"
timeout -s INT 220 python3 benchmarks/gpu_knob_ab.py --err-rows 256 --points 16384:rand,32768:rand,16384:local \
    --variants "GATHER_SCAN=0;;GATHER_CAP=128;GATHER_SCAN_KEYS=32,GATHER_CAP=128;GATHER_SCAN=0;GATHER_CAP=128"
echo "knob_ab exit status $?"
timeout -s INT 60 python3 benchmarks/gpu_timeline.py --out "$OUT" \
    --cases "infer:rand:16384:GATHER_CAP=128;infer:rand:32768:GATHER_CAP=128" 2>&1 | grep -E "^\[timeline\] [a-z]|attention_fwd|FAILED"
echo "timeline exit status $?"
timeout -s INT 170 compute-sanitizer --tool memcheck --error-exitcode 9 python3 benchmarks/gpu_checks.py --small --fixup-only > "$OUT/memcheck.txt" 2>&1
echo "compute-sanitizer exit status $?"
grep -v "^\[small\].* ok$" "$OUT/memcheck.txt" | tail -5
grep -c "^\[small\].* ok$" "$OUT/memcheck.txt"
