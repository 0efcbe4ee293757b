#!/usr/bin/env bash
# Session 21, call B: a per-head α's dα from ∂out/∂α that the forward stores beside O₂ (forward
# mode; the backward then takes the fused dQ, five products per tile, and no dα row sums) against
# main's code (_old/: the dQ pass sums five dα row terms), bf16 B=2 H=16 D=128 causal, α per head
# 1.3..2.0: forward+backward, backward alone, and max errors against float64 (B=1 H=2, 4k).
# The new code was benchmarks/results/run-2026-12-01-s21-callB/dropped-tangent.patch applied to
# e271ecc; _old/ was `git archive e271ecc adasplash_compile benchmarks` with this session's
# benchmarks/gpu_fused_dq.py copied in (an untracked folder, so the device tool copied it). Dropped.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 500:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s21b.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
echo "== main (old)"
(cd _old && timeout -s INT 200 python3 benchmarks/gpu_fused_dq.py --alpha 1.3..2.0 --accuracy 4096 \
    --points 4096:rand,4096:local,8192:rand --variants "default")
echo "old exit status $?"
echo "== new"
timeout -s INT 200 python3 benchmarks/gpu_fused_dq.py --alpha 1.3..2.0 --accuracy 4096 \
    --points 4096:rand,4096:local,8192:rand --variants "default;passes"
echo "new exit status $?"
