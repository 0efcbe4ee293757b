#!/usr/bin/env bash
# Session 27, call E: below 16k keys the in-tile refinement of uncertified rows costs the 4k 'rand'
# forward ~0.11 ms (call D). SUBSET_EVICT2 (the row's largest evicted x joins the candidates:
# ~10x fewer uncertified rows, two more row reductions per inserted tile) lost in session 6
# (4k rand 0.951 against 0.887), before the warm start, the near-key patience and the lean loops;
# measured again at 4k and 8k (it disables GATHER, so not from 16k): phases, then do_bench A/B
# through the public op with the defaults first and last.
#
#   device run, carry [".whl"], timeout_s 400:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s27e.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 100 python3 benchmarks/gpu_general_phases.py --n 4096 8192 --alphas 1.5 --inputs rand local \
    --variants "SUBSET_EVICT2=0;SUBSET_EVICT2=1" 2>&1 | grep "^\[phases\]"
echo "phases exit status $?"
timeout -s INT 150 python3 benchmarks/gpu_knob_ab.py --err-rows 256 --points 4096:rand,4096:local,8192:rand,8192:local \
    --variants ";SUBSET_EVICT2=1;;SUBSET_EVICT2=1"
echo "knob_ab exit status $?"
