#!/usr/bin/env bash
# Session 9, calls B and C (as they were typed into the device tool; B: ~66 s, C: ~38 s): sweep 1's
# probe of 4 and 6 tiles (SUBSET_NEAR_PATIENCE) against 8, 16k (B), then 4 against 8 at 4k/32k (C).
#
#   device run, carry [".whl", ".triton_cache"]:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s9b.sh B   (or C)
set -u
if [ "${1:-B}" = B ]; then ns=16384 budget=60 names="patience 4,patience 6,subset 64x64/4w"
else ns=4096,32768 budget=45 names="patience 4,subset 64x64/4w"; fi
python3 -c "
import sys; sys.argv=['x','--out','$OUT','--ns','$ns','--budget','$budget','--skip-check','--configs','$names']
import benchmarks.gpu_attention_subset as m
m.CONFIGS['patience 4']=(m._SUB,{'SUBSET_NEAR_PATIENCE':4},'')
m.CONFIGS['patience 6']=(m._SUB,{'SUBSET_NEAR_PATIENCE':6},'')
m.main()"
