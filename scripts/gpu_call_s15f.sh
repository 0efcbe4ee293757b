#!/usr/bin/env bash
# Session 15, call F: the forward's general-α, per-head-α and low-precision tests on the GPU after
# calls A-C's changes (the SFU's log2, the per-head sweep guard, 4 probes in bf16/fp16's first two
# sweeps), with the hypothesis property test at its GPU profile, as far as the time allows.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 420:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s15f.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 360 python3 -m pytest tests/kernels/test_attention_fwd.py -q -p no:cacheprovider --tb=line -rf \
    -k "general or per_head or alpha or low_precision or property" > "$OUT/tests.txt" 2>&1
echo "tests exit status $?"
tail -15 "$OUT/tests.txt"
