#!/usr/bin/env bash
# Session 27, call A: sweep 1's insertion behind a warp-uniform branch (stand-alone probe,
# benchmarks/gpu_sweep1_floor.py, 64x64/4 warps/3 stages, top-4). Pieces: the scores alone, the
# plain insertion (no near check / the product's near skip), GATE=1 (the branch on x > c3 only),
# GATE=2 (the row's gate, a lower bound on τ from the top candidate per position, refreshed at
# tiles 2, 4, 8, ... and every 32nd, floors the candidates), GATE=3 (the plain insertion without the per-tile
# row max, as the product's lean dense tiles: the fair baseline), beside cuDNN and the product's sweep 1.
#
#   device run, carry [".whl"], timeout_s 420:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s27a.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 330 python3 benchmarks/gpu_sweep1_floor.py --out "$OUT" --budget 300 --ns 16384,4096 \
    --tiles 64x64x4x3 --pieces 0:0:0,4:0:0,4:0:0:0:3,4:2:0,4:0:0:0:1,4:0:0:0:2
echo "sweep1_floor exit status $?"
