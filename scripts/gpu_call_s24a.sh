#!/usr/bin/env bash
# Session 24, call A: the gather launch's x scratch (attention.GATHER_SCRATCH: pass A stores each
# listed key's x, the τ solve loads them as one tile, pass B reads them back, instead of an O(cap)
# scatter and pick per key in registers) A/B through the public op, forward and forward+backward,
# then the forward's gather tests on the GPU (Triton 3.6 compiling the new code).
#
#   device run, carry [".whl"], timeout_s 590:
#     bash scripts/gpu_run.sh bash scripts/gpu_call_s24a.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 400 python3 benchmarks/gpu_knob_ab.py --points 16384:rand,16384:local,32768:rand \
    --variants "GATHER_SCRATCH=0;GATHER_SCRATCH=1;GATHER_SCRATCH=0;GATHER_SCRATCH=1" --err-rows 256
echo "knob_ab exit status $?"
timeout -s INT 120 python3 -m pytest tests/kernels/test_attention_fwd.py -k gather -n 8 -q \
    -p no:cacheprovider --tb=short -rf > "$OUT/fwd_gather_tests.txt" 2>&1
echo "gather tests exit status $?"
grep -E "FAILED|ERROR" "$OUT/fwd_gather_tests.txt" | head -20
tail -2 "$OUT/fwd_gather_tests.txt"
