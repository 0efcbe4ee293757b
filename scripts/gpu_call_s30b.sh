#!/usr/bin/env bash
# Session 30, call B: the suite's 16k rows of the three libraries in one run (ours, AdaSplash-2 live,
# cuDNN), forward and forward+backward, 'rand' and 'local'. AdaSplash-2 was last timed at 16k in
# session 12 (calls I, F), beside older kernels of ours; its first call at each length autotunes for
# minutes, hence one length per call.
#
#   device run, carry [".whl"], timeout_s 580:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s30b.sh
exec bash scripts/gpu_suite_rows.sh core 530 240 core16k \
    "not noncausal and D128 and (adasplash_compile or adasplash2 or sdpa_cudnn) and N16384"
