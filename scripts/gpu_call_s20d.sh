#!/usr/bin/env bash
# Session 20, call D: the eager-shortcut test that call C's time limit cut off (a per-head α and a
# float mask with grad: the general-α kernels compile cold), then the 4k critical path with the
# variants in a shuffled order per round (call C's fixed order gave the first variant ~80 µs more).
#
#   device run, carry [".whl", ".triton_cache"], timeout_s 540:
#     SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_s20d.sh
set -u
export ADASPLASH_COMPILE_AUTOTUNE=0
timeout -s INT 220 python3 -m pytest tests/kernels/test_attention_bwd.py -k "eager_shortcut" -v -p no:cacheprovider \
    --tb=short -rf --durations=5 > "$OUT/tests.txt" 2>&1
echo "tests exit status $?"
grep -E "PASSED|FAILED|ERROR|passed|failed|s call" "$OUT/tests.txt" | head -20
timeout -s INT 280 python3 benchmarks/gpu_critical_path.py --out "$OUT" --rounds 200 --cases local:4096,rand:4096 \
    --variants ours,ours_prev,ours_late,ours_full,adasplash2,cudnn --marks 0
echo "critical path exit status $?"
