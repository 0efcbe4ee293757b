#!/usr/bin/env bash
# Session 10, call F (~6 min): call D's suite again (4k and 16k beside AdaSplash-2 and cuDNN, live)
# after the dK/dV pass's per-tile map test was limited to backward calls with rows listed.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 600:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s10f.sh
exec bash "$(dirname "$0")/gpu_call_s10d.sh"
