#!/usr/bin/env bash
# Session 30, call D (prepared for the next session; session 30 had no device time left): the
# suite's 32k forward+backward rows of the three libraries in one run. In call C AdaSplash-2's
# first forward+backward call at 32k autotuned past the suite's 240 s row limit (its forward took
# 202 s), so its rows were skipped and the README keeps session 17's; here the row limit is raised.
#
#   device run, carry [".whl"], timeout_s 598:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s30d.sh
exec bash scripts/gpu_suite_rows.sh full 560 480 core32k_train \
    "not noncausal and D128 and N32768 and fwd_bwd and (adasplash2 or sdpa_cudnn or (adasplash_compile and a1.5))"
