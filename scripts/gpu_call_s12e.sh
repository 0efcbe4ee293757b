#!/usr/bin/env bash
# Session 12, call E: CUDA-graph capture of training again (call D's probe kept an eager step's
# autograd graph alive), then the suite's 32k rows (ours and cuDNN) with the fix-up beside the
# gather launch.
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 500:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s12e.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout 120 python3 -c "
import sys; sys.argv = ['x']
sys.path.insert(0, 'benchmarks/..')
from benchmarks import gpu_concurrency as g
ok, rows = g.graphs()
print('[graph] all replayed equal' if ok else '[graph] SOME FAILED', flush=True)
"
echo "graph exit status $?"
timeout 300 python3 -m pytest benchmarks/bench_attention.py --bench-grid=core --bench-budget=270 \
    -k "N32768 and D128 and not noncausal and (adasplash_compile or sdpa_cudnn)" \
    --benchmark-json="$OUT/core.json" -q -p no:cacheprovider -rs
echo "suite exit status $?"
python3 benchmarks/summarize.py "$OUT/core.json" --out "$OUT"
