#!/usr/bin/env bash
# Session 11, call H: the forward's gather launch loading each step's key indices (GATHER_KEY_LOADS,
# now the default) against picking them from registers, with 2 stages and with 1 (session 10's
# launch); 16k and 32k, checks at 4k and 16k.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 400:
#     bash scripts/gpu_run.sh bash scripts/gpu_call_s11h.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 300 python3 benchmarks/gpu_attention_subset.py --out "$OUT" --ns 16384,32768 --budget 80 \
    --configs "subset 64x64/4w,subset gather keys from registers,subset gather keys from registers 1 stage"
echo "subset exit status $?"
