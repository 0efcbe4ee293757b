#!/usr/bin/env bash
# Session 24, call C: the gather launch without its pass A (attention.GATHER_PACKED_X: bf16 / fp16
# inputs solve τ on the listed keys' x as the main launch's packed candidates held them) A/B through
# the public op, forward and forward+backward, then the gather tests of both kernels on the GPU.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 500:
#     bash scripts/gpu_run.sh bash scripts/gpu_call_s24c.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 300 python3 benchmarks/gpu_knob_ab.py --points 16384:rand,16384:local,32768:rand \
    --variants "GATHER_PACKED_X=0;GATHER_PACKED_X=1;GATHER_PACKED_X=0;GATHER_PACKED_X=1" --err-rows 256
echo "knob_ab exit status $?"
timeout -s INT 150 python3 -m pytest tests/kernels/test_attention_fwd.py tests/kernels/test_attention_bwd.py \
    -k "gather or listed_rows or training_gather" -n 8 -q -p no:cacheprovider --tb=short -rf \
    > "$OUT/gather_tests.txt" 2>&1
echo "gather tests exit status $?"
grep -E "FAILED|ERROR" "$OUT/gather_tests.txt" | head -20
tail -2 "$OUT/gather_tests.txt"
