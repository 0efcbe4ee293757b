#!/usr/bin/env bash
# Session 11, call I (~6-9 min): the suite beside AdaSplash-2 and cuDNN, live, at 4k and 16k (session
# 10 call D's command): the listed kernels' pair chunks, int16 bins, training cap 128, the count
# waited for after the dense passes, and the forward's gather launch at 2 stages with key loads.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 600:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s11i.sh
exec bash "$(dirname "$0")/gpu_call_s10d.sh"
