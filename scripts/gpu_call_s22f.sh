#!/usr/bin/env bash
# Session 22, call F: the forward's tests on the GPU again with a longer limit (call E's 200 s cut
# the last few), then the backward's (the training forward runs the warm start too).
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 560:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s22f.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
for t in fwd bwd; do
    timeout -s INT 255 python3 -m pytest tests/kernels/test_attention_$t.py -n 15 --dist worksteal -q \
        -p no:cacheprovider --tb=short -rf > "$OUT/${t}_tests.txt" 2>&1
    echo "$t tests exit status $?"
    grep -E "FAILED|ERROR" "$OUT/${t}_tests.txt" | head -20
    tail -2 "$OUT/${t}_tests.txt"
done
