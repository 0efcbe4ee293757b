#!/usr/bin/env bash
# Session 30, call A: 1) refine_targeted's scan at TARGETED_SCAN 16 (the default since session 28)
# against 32, alternated three times each (session 29's call s28a had 32 ~1.5-2.5% faster than 16
# on 'rand' forwards and level on 'local', from one run each); the output's max error on the last
# 256 rows against float64 and each variant's difference from the first; 2) the suite's 4k rows of
# the three libraries in one run (ours, AdaSplash-2 live, cuDNN), last run in session 22 (call D);
# 3) the suite's 16k rows of ours and cuDNN (forward and forward+backward).
#
#   device run, carry [".whl"], timeout_s 570:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s30a.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 200 python3 benchmarks/gpu_knob_ab.py --err-rows 256 --points 4096:rand,4096:local,8192:rand,8192:local \
    --variants ";TARGETED_SCAN=32;;TARGETED_SCAN=32;;TARGETED_SCAN=32"
echo "knob_ab exit status $?"
timeout -s INT 200 python3 -m pytest benchmarks/bench_attention.py --bench-grid=core --bench-budget=190 \
    -k "not noncausal and D128 and (adasplash_compile or adasplash2 or sdpa_cudnn) and N4096" \
    --benchmark-json="$OUT/core4k.json" -q -p no:cacheprovider -rs 2>&1 | grep -E "^\[bench|passed|failed|error"
echo "suite 4k exit status $?"
timeout -s INT 120 python3 -m pytest benchmarks/bench_attention.py --bench-grid=core --bench-budget=110 \
    -k "not noncausal and D128 and (adasplash_compile or sdpa_cudnn) and N16384" \
    --benchmark-json="$OUT/core16k.json" -q -p no:cacheprovider -rs 2>&1 | grep -E "^\[bench|passed|failed|error"
echo "suite 16k exit status $?"
python3 benchmarks/summarize.py "$OUT/core4k.json" "$OUT/core16k.json" --base benchmarks/results/h200-summary.json --out "$OUT/summary" 2>&1 | tail -30
