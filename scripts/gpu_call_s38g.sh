#!/usr/bin/env bash
# Session 38, call G (ran; LISTED_DZ_SORTED was dropped, see attention_bwd.LISTED_STAGES): attention_bwd.LISTED_DZ_SORTED (the listed dK/dV kernel stores dZ coalesced in
# its own order, the listed dQ kernel gathers it through the inverse permutation) on / off,
# alternated twice; a longer chunk and a third stage for the listed kernels beside; then the
# timelines of 16k and 32k 'rand' training with it.
#
#   device run, carry [".whl"], timeout_s 590:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s38g.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 330 python3 benchmarks/gpu_knob_ab.py --idle \
    --points 16384:rand,32768:rand,16384:local \
    --variants ";LISTED_DZ_SORTED=0;LISTED_CHUNK=64;LISTED_STAGES=3;;LISTED_DZ_SORTED=0"
echo "knob_ab exit status $?"
timeout -s INT 120 python3 benchmarks/gpu_timeline.py --out "$OUT" \
    --cases "train:rand:16384;train:rand:16384:LISTED_DZ_SORTED=0;train:rand:32768;train:rand:32768:LISTED_DZ_SORTED=0" 2>&1 | grep -v "host +" | grep "timeline\] train\|_bwd_\|scatter\|index_put\|arange" | head -80
echo "timeline exit status $?"
