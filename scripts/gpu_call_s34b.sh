#!/usr/bin/env bash
# Session 34, call B: 1) the gather launch's register cap and chunked solve, alternated twice
# (call A ran each once): cap 64 against none, with the solve on one [16, 128] tile or read back
# 64 columns at a time; 2) the forward tests of the gather / scan / replay paths on the GPU with
# the new defaults (GATHER_MAXNREG 64); 3) the suite's 4k rows of ours, AdaSplash-2 (live) and
# cuDNN in one run, then the 16k rows of ours and cuDNN (the README's table is session 30's, from
# before GATHER_SCAN).
#
# (GATHER_SOLVE_SPLIT is commit ea99927's; it was removed after this call.)
#
#   device run, carry [".whl"], timeout_s 590:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s34b.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
v="GATHER_SOLVE_SPLIT=0,GATHER_MAXNREG=0;GATHER_SOLVE_SPLIT=0,GATHER_MAXNREG=64;GATHER_SOLVE_SPLIT=64,GATHER_MAXNREG=64;GATHER_SOLVE_SPLIT=64,GATHER_MAXNREG=0"
timeout -s INT 150 python3 benchmarks/gpu_knob_ab.py --infer-only --err-rows 256 --points 16384:rand,32768:rand,16384:local \
    --variants "$v;$v"
echo "knob_ab exit status $?"
timeout -s INT 110 python3 -m pytest tests/kernels/test_attention_fwd.py -q -p no:cacheprovider -n 8 \
    -k "gather_scan or replayed_multi or gather_lists or gather_cap" 2>&1 | tail -3
echo "pytest exit status $?"
bash scripts/gpu_suite_rows.sh core 170 160 core4k \
    "not noncausal and D128 and (adasplash_compile or adasplash2 or sdpa_cudnn) and N4096"
bash scripts/gpu_suite_rows.sh core 100 90 core16k \
    "not noncausal and D128 and (adasplash_compile or sdpa_cudnn) and N16384"
python3 benchmarks/summarize.py "$OUT/core4k.json" "$OUT/core16k.json" --base benchmarks/results/h200-summary.json --out "$OUT/summary" 2>&1 | tail -30
