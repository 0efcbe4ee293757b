#!/usr/bin/env bash
# Session 38, call H (ran: 94 passed, 4 skipped): the backward and training tests on the H200 with the pack kernel's skip of
# unlisted chunks (attention_bwd.PACK_ROWS / PACK_SUB; the listed pairs' test runs it on programs
# of 64 and 256 rows and on unlisted spans).
#
#   device run, carry [".whl"], timeout_s 420:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s38h.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 320 python3 -m pytest tests/kernels/test_attention_bwd.py tests/test_training.py -n 15 --dist worksteal \
    -q -p no:cacheprovider --tb=short -rfE > "$OUT/tests.txt" 2>&1
echo "tests exit status $?"
grep -E "FAILED|ERROR" "$OUT/tests.txt" | head -20
tail -8 "$OUT/tests.txt"
