#!/usr/bin/env bash
# Session 37, call B: attention.DENSE_OWN_ROWS (the dense route stores only its dead and NaN rows'
# outputs, not zeros for the rows the gather launch and the fix-up write) on / off, alternated
# twice, with PAIR_MERGE now on; then the suite's 16k and 32k rows of ours and cuDNN with both.
#
#   device run, carry [".whl"], timeout_s 590:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s37b.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 150 python3 benchmarks/gpu_knob_ab.py --err-rows 256 --points 16384:rand,32768:rand,16384:local \
    --variants ";DENSE_OWN_ROWS=0;;DENSE_OWN_ROWS=0"
echo "knob_ab exit status $?"
bash scripts/gpu_suite_rows.sh core 100 90 core16k \
    "not noncausal and D128 and (adasplash_compile or sdpa_cudnn) and N16384"
bash scripts/gpu_suite_rows.sh full 200 190 core32k \
    "not noncausal and D128 and N32768 and (sdpa_cudnn or (adasplash_compile and a1.5))"
