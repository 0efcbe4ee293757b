#!/usr/bin/env bash
# The next session's first GPU call (written 2026-11-29, when the device budget ran out before the
# fixed kernels could be re-measured): the three one-call GPU checks in order, cheapest first, each
# with its own time budget, so one call (≤ 10 min) brings back valid numbers for all three kernels.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 590:
#     bash scripts/gpu_run.sh bash scripts/gpu_first_call.sh
#
# Results land in $OUT (rowwise.{json,md}, attention-fwd*.{json,md}, attention-bwd*.{json,md});
# copy them to benchmarks/results/<name>-h200.* and commit. AdaSplash-2 is not run live here (its
# per-N autotuning costs minutes): the scripts compare against ../shared/anchors.
set -u
export ADASPLASH_COMPILE_AUTOTUNE=${ADASPLASH_COMPILE_AUTOTUNE:-0}
timeout 120 python3 benchmarks/gpu_rowwise.py || echo "gpu_rowwise.py exited $?"
timeout 300 python3 benchmarks/gpu_attention_fwd.py --ns 4096,16384 --budget 100 \
    || echo "gpu_attention_fwd.py exited $?"
timeout 130 python3 benchmarks/gpu_attention_bwd.py --ns 4096,16384 --budget 70 \
    || echo "gpu_attention_bwd.py exited $?"
