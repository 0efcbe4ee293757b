#!/usr/bin/env bash
# One device call (≤ 10 min): a quick GPU check of the attention forward, its per-sweep profile,
# then the benchmark suite's core grid without AdaSplash-2 (whose per-N autotuning needs a call of
# its own: scripts/gpu_call_adasplash2.sh), the summary and the plots.
#
#   device run, carry [".whl", ".gpu_fallback"], timeout_s 590:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_suite.sh
#
# If the check fails (a kernel change that only the GPU rejects), the previous kernel from
# .gpu_fallback/ (ignored; an older commit's template and launcher) is put back and the suite
# measures that one; the log says so.
set -u
export ADASPLASH_COMPILE_AUTOTUNE=${ADASPLASH_COMPILE_AUTOTUNE:-0}
mkdir -p "$OUT/fwd"
timeout 170 python3 benchmarks/gpu_attention_fwd.py --quick-check --skip-time --out "$OUT/fwd"
rc=$?
ok=$(python3 - "$OUT/fwd/attention-fwd-h200.json" <<'PY'
import json, sys
try:
    d = json.load(open(sys.argv[1]))
    print(int(len(d["checks"]) == 2 and all(r["rel_err"] < 4e-3 and not r["nan"] for r in d["checks"])))
except Exception:
    print(0)
PY
)
if [ "$rc" != 0 ] || [ "$ok" != 1 ]; then
    echo "FORWARD CHECK FAILED (rc=$rc ok=$ok): measuring the fallback kernel from .gpu_fallback/"
    cp .gpu_fallback/attention_fwd.py.jinja adasplash_compile/kernels/templates/attention_fwd.py.jinja
    cp .gpu_fallback/attention.py adasplash_compile/kernels/attention.py
fi
timeout 380 python3 -m pytest benchmarks --bench-grid=core --bench-budget=${BENCH_BUDGET:-320} -k "not adasplash2" \
    --benchmark-json="$OUT/core.json" -q -p no:cacheprovider -rs
python3 benchmarks/summarize.py "$OUT/core.json" --out "$OUT"
