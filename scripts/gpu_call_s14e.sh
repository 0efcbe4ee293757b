#!/usr/bin/env bash
# Session 14, call E: replays with a per-head α: host time per training step on / off, and 50
# backward passes at the benchmark shape (per-head α, 'rand', 4k) bitwise equal through the replay.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 400:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s14e.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 150 python3 benchmarks/gpu_checks.py --determinism 50 2>&1 | tail -6
echo "determinism exit status $?"
timeout 200 python3 benchmarks/gpu_replay_ab.py --shapes 1x2x256:rand,2x16x4096:local
echo "replay-ab exit status $?"
