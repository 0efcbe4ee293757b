#!/usr/bin/env bash
# Session 37, call E: the suite's rows with this session's defaults (PAIR_MERGE, DENSE_OWN_ROWS,
# PAIR_EXACT): 4k of the three libraries (AdaSplash-2 live), 16k and 32k of ours and cuDNN.
#
#   device run, carry [".whl"], timeout_s 590:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s37e.sh
set -u
bash scripts/gpu_suite_rows.sh core 170 160 core4k \
    "not noncausal and D128 and (adasplash_compile or adasplash2 or sdpa_cudnn) and N4096"
bash scripts/gpu_suite_rows.sh core 100 90 core16k \
    "not noncausal and D128 and (adasplash_compile or sdpa_cudnn) and N16384"
bash scripts/gpu_suite_rows.sh full 200 190 core32k \
    "not noncausal and D128 and N32768 and (sdpa_cudnn or (adasplash_compile and a1.5))"
