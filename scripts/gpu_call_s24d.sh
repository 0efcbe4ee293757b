#!/usr/bin/env bash
# Session 24, call D: GATHER_PACKED_X again after call C (its 32k 'rand' forward ran 1.1 ms slower),
# with the listing's stores from one base per program (ptxas: 316 bytes of spills in the dense
# route against 536), A/B through the public op, then each kernel's time (torch profiler) at 16k
# and 32k 'rand' with it off and on, then the gather tests of both kernels.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 560:
#     bash scripts/gpu_run.sh bash scripts/gpu_call_s24d.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 240 python3 benchmarks/gpu_knob_ab.py --points 16384:rand,32768:rand,16384:local \
    --variants "GATHER_PACKED_X=0;GATHER_PACKED_X=1;GATHER_PACKED_X=0;GATHER_PACKED_X=1" --err-rows 256
echo "knob_ab exit status $?"
timeout -s INT 150 python3 benchmarks/gpu_timeline.py --out "$OUT" --cases \
    'infer:rand:16384:GATHER_PACKED_X=0;infer:rand:16384:GATHER_PACKED_X=1;infer:rand:32768:GATHER_PACKED_X=0;infer:rand:32768:GATHER_PACKED_X=1'
echo "timeline exit status $?"
timeout -s INT 120 python3 -m pytest tests/kernels/test_attention_fwd.py tests/kernels/test_attention_bwd.py \
    -k "gather or listed_rows or training_gather" -n 8 -q -p no:cacheprovider --tb=short -rf \
    > "$OUT/gather_tests.txt" 2>&1
echo "gather tests exit status $?"
grep -E "FAILED|ERROR" "$OUT/gather_tests.txt" | head -20
tail -2 "$OUT/gather_tests.txt"
