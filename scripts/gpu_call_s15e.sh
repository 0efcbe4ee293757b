#!/usr/bin/env bash
# Session 15, call E: dα's δ from fp32 sums (the backward's dQ pass). The backward replay tests
# (call C/D: the per-head-α GQA bf16 case failed on dα, also at 254cd0a), the new dα test and the
# per-head α tests; per-head α training time at 4k with two more row sums in the dQ pass.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 420:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s15e.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 200 python3 -m pytest tests/kernels/test_attention_bwd.py -q -p no:cacheprovider --tb=line \
    -k "replayed_backward or o2_rounding or per_head or dalpha or alpha" 2>&1 | tail -12
echo "tests exit status $?"
timeout 120 python3 benchmarks/gpu_head_alpha.py --n 4096
echo "head-alpha exit status $?"
