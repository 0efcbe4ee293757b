#!/usr/bin/env bash
# Run a command on the lent GPU machine (device tool) with the carried wheels and compile caches.
#
#   device run, carry [".whl", ".triton_cache"]:  bash scripts/gpu_run.sh python3 benchmarks/...
#
# - installs the pure-Python wheels in .whl/ (adasplash 0.2.2, entmax 1.3) into /tmp/site;
# - restores .triton_cache/cache.tgz (Triton kernels + our tuned configs) and saves the updated
#   cache to $OUT/cache.tgz; copy it back to .triton_cache/cache.tgz here to carry it next time;
# - tees the log to $OUT/log.txt.
set -o pipefail
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1
export TRITON_CACHE_DIR=/tmp/tcache/triton ADASPLASH_COMPILE_CACHE_DIR=/tmp/tcache/adasplash
mkdir -p "$TRITON_CACHE_DIR" "$ADASPLASH_COMPILE_CACHE_DIR"
[ -f .triton_cache/cache.tgz ] && tar xzf .triton_cache/cache.tgz -C /tmp/tcache
nvidia-smi --query-gpu=name,driver_version,clocks.sm,temperature.gpu --format=csv,noheader
python3 -c "import torch, triton; print('torch', torch.__version__, 'triton', triton.__version__, 'cuda', torch.version.cuda)"
"$@" 2>&1 | tee "$OUT/log.txt"
rc=$?
tar czf "$OUT/cache.tgz" -C /tmp/tcache . 2>/dev/null
exit $rc
