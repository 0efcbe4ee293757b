#!/usr/bin/env bash
# Session 15, call C: general α in bf16/fp16 with 4 probes in the first two sweeps (8 before;
# NREF_GENERAL_LOWP), forward by sweeps and per-head α forward / training at 4k with the error
# against float64; the backward replay test that failed in call B (per-head α, GQA, bf16), alone
# and in full; then the row-wise and decode tests of general and per-head α that call B's time
# limit cut off.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 560:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s15c.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 100 python3 -m pytest "tests/kernels/test_attention_bwd.py::test_replayed_backward_is_the_full_path" \
    -q -p no:cacheprovider -x --tb=long 2>&1 | tail -60
echo "replay test exit status $?"
timeout 120 python3 benchmarks/gpu_general_alpha.py --n 4096
echo "general exit status $?"
timeout 120 python3 benchmarks/gpu_head_alpha.py --n 4096
echo "head-alpha exit status $?"
timeout 180 python3 -m pytest tests/kernels/test_entmax_rowwise.py tests/kernels/test_decode.py \
    "tests/kernels/test_attention_fwd.py::test_low_precision_general_alpha_threshold" \
    "tests/kernels/test_attention_fwd.py::test_per_head_alpha_threshold_is_fp32_exact" \
    -q -k "general or per_head or alpha" -p no:cacheprovider -rs > "$OUT/tests.txt" 2>&1
echo "tests exit status $?"
tail -30 "$OUT/tests.txt"
