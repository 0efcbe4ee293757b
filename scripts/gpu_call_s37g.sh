#!/usr/bin/env bash
# Session 37, call G: the backward and training tests on the H200 with this session's forward
# (PAIR_EXACT widens a row's key range by up to a tile, which the tile map hands the backward;
# the training forward's dense route pairs its tiles and stores only its own rows).
#
#   device run, carry [".whl"], timeout_s 420:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s37g.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 320 python3 -m pytest tests/kernels/test_attention_bwd.py tests/test_training.py -n 15 --dist worksteal \
    -q -p no:cacheprovider --tb=short -rfE > "$OUT/tests.txt" 2>&1
echo "tests exit status $?"
grep -E "FAILED|ERROR" "$OUT/tests.txt" | head -20
tail -8 "$OUT/tests.txt"
