#!/usr/bin/env bash
# Session 36, call B: the suite's 16k and 32k rows of ours and cuDNN after GATHER_WORDS and its
# placeholder index lists (the README's rows predate both; the placeholder takes 128 / 256 MiB off
# the inference forward's peak at 16k / 32k).
#
#   device run, carry [".whl"], timeout_s 590:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s36b.sh
set -u
bash scripts/gpu_suite_rows.sh core 110 100 core16k \
    "not noncausal and D128 and (adasplash_compile or sdpa_cudnn) and N16384"
bash scripts/gpu_suite_rows.sh full 230 220 core32k \
    "not noncausal and D128 and N32768 and (sdpa_cudnn or (adasplash_compile and a1.5))"
