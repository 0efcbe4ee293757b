#!/usr/bin/env bash
# Session 8, call C (~3 min): where the gather forward's time goes (torch.profiler kernel
# durations: main launch, fix-up, gather launch) at 4k/16k rand/local, the gather launch with
# pipelined loads (GATHER_STAGES) against one stage, and the dense output sweep.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 400:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s8c.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
for kind in rand local; do
  for n in 4096 16384; do
    timeout 120 python3 benchmarks/gpu_fixup_profile.py --gather --kind $kind --n $n 2>&1 | grep "\[prof\]"
  done
done
