#!/usr/bin/env bash
# Session 37, call F: the forward tests that reach the changed code (the pair merges, the dense
# route's own rows, NaN and masked rows, the gather paths, the replays) on the H200, then
# compute-sanitizer memcheck over the small gather / fix-up checks (DENSE_OWN_ROWS changes a
# store's mask).
#
#   device run, carry [".whl"], timeout_s 590:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s37f.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 170 python3 -m pytest tests/kernels/test_attention_fwd.py -q -p no:cacheprovider -n 12 \
    -k "pair or dense_route or nan or gather or replayed or fully_masked or minus_inf or subset" 2>&1 | tail -4
echo "pytest exit status ${PIPESTATUS[0]}"
SECONDS=0
timeout -s INT 110 python3 benchmarks/gpu_checks.py --small --fixup-only 2>&1 | grep -v "^\[small\].* ok$" | tail -4
echo "warm-up (no sanitizer) exit status ${PIPESTATUS[0]} in ${SECONDS} s"
SECONDS=0
timeout -s INT 220 compute-sanitizer --tool memcheck --error-exitcode 9 python3 benchmarks/gpu_checks.py --small --fixup-only 2>&1 | grep -v "^\[small\].* ok$" | tail -6
echo "compute-sanitizer exit status ${PIPESTATUS[0]} in ${SECONDS} s"
