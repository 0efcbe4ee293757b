#!/usr/bin/env bash
# Session 30, call C: the suite's 32k rows of the three libraries in one run (ours, AdaSplash-2 live,
# cuDNN), forward and forward+backward, 'rand' and 'local'. AdaSplash-2 was last timed at 32k in
# session 17 (call C), beside older kernels of ours; its first call at each length autotunes for
# minutes, hence one length per call. The core grid has no AdaSplash-2 row at 32k: the full grid's.
#
#   device run, carry [".whl"], timeout_s 598:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s30c.sh
exec bash scripts/gpu_suite_rows.sh full 545 240 core32k \
    "not noncausal and D128 and N32768 and (adasplash2 or sdpa_cudnn or (adasplash_compile and a1.5))"
