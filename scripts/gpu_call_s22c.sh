#!/usr/bin/env bash
# Session 22, call C: the solve's warm start for general α (a float α = 1.25, and one α per head
# from 1.3 to 2.0) and more warm steps at α = 1.5, A/B through the public op.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 590:
#     bash scripts/gpu_run.sh bash scripts/gpu_call_s22c.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
AB="timeout -s INT 170 python3 benchmarks/gpu_knob_ab.py --err-rows 256"
$AB --points 4096:rand,4096:local,16384:local --variants "SUBSET_WARM=4;SUBSET_WARM=5;SUBSET_WARM=6;SUBSET_WARM=4"
echo "ab 1.5 exit status $?"
$AB --alpha 1.25 --points 4096:rand,4096:local --variants "SUBSET_WARM=0;SUBSET_WARM=4;SUBSET_WARM=0;SUBSET_WARM=4"
echo "ab 1.25 exit status $?"
$AB --alpha head --points 4096:rand,16384:rand --variants "SUBSET_WARM=0;SUBSET_WARM=4;SUBSET_WARM=0;SUBSET_WARM=4"
echo "ab head exit status $?"
