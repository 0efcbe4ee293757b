#!/usr/bin/env bash
# Session 18, call G: a float α's forward phase by phase (benchmarks/gpu_general_phases.py): sweep
# 1 + the candidates' τ, + the output sweep, the full kernel; rows and tiles the refinement took.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 400:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s18g.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 200 python3 benchmarks/gpu_general_phases.py --n 4096 --alphas 1.5 1.25 1.7 2.5 --inputs rand local
echo "phases 4k exit status $?"
timeout -s INT 120 python3 benchmarks/gpu_general_phases.py --n 16384 --alphas 1.25 1.7 --inputs rand --out /tmp
echo "phases 16k exit status $?"
