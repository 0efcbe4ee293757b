#!/usr/bin/env bash
# Session 3, call D (~9.5 min): the row-wise report with the new defaults ("top" kernel, 4 warps at
# 4096, 16-byte columns for bf16) beside torch.softmax (issue #2; AdaSplash-2 and the entmax package
# were measured in call C); compute-sanitizer memcheck over the small runs with the default forward
# config (issue #3; call C's 200 s cut it after 3 cases); fwd+bwd suite rows with the new backward
# config beside cuDNN (issue #4).
#
#   device run, carry [".whl"], timeout_s 590:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s3d.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 120 python3 benchmarks/gpu_rowwise.py --skip-peers
echo "rowwise exit status $?"
timeout 300 compute-sanitizer --tool memcheck --error-exitcode 9 python3 benchmarks/gpu_checks.py --small --default-config-only
echo "compute-sanitizer exit status $?"
timeout 150 python3 -m pytest benchmarks --bench-grid=core --bench-budget=130 \
    -k "((adasplash_compile or sdpa_cudnn) and fwd_bwd and causal and D128 and (N4096 or N16384) and not noncausal)" \
    --benchmark-json="$OUT/core.json" -q -p no:cacheprovider -rs
echo "suite exit status $?"
