#!/usr/bin/env bash
# Session 12, call F (~6-9 min): the suite beside AdaSplash-2 and cuDNN, live, at 4k and 16k (session
# 10 call D's command), with the fix-up beside the gather launch.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 600:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s12f.sh
exec bash "$(dirname "$0")/gpu_call_s10d.sh"
