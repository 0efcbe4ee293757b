#!/usr/bin/env bash
# Run a command on the lent GPU machine (device tool) with the carried wheels and compile caches.
#
#   device run, carry [".whl", ".triton_cache"]:  bash scripts/gpu_run.sh python3 benchmarks/...
#
# - installs the pure-Python wheels in .whl/ (adasplash 0.2.2, entmax 1.3) into /tmp/site;
# - restores .triton_cache/cache.tgz.part* (Triton kernels + our tuned configs) and saves the
#   updated cache to $OUT/cache.tgz.part00, 01, ... (each < 16 MiB, the tool's per-file limit);
#   copy them back to .triton_cache/ here (replacing the old parts) to carry them next time;
# - tees the log to $OUT/log.txt.
set -o pipefail
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1
export TRITON_CACHE_DIR=/tmp/tcache/triton ADASPLASH_COMPILE_CACHE_DIR=/tmp/tcache/adasplash
mkdir -p "$TRITON_CACHE_DIR" "$ADASPLASH_COMPILE_CACHE_DIR"
# the cache comes back split in parts of < 16 MiB (the device tool's per-file limit)
if ls .triton_cache/cache.tgz.part* >/dev/null 2>&1; then
    cat .triton_cache/cache.tgz.part* | tar xzf - -C /tmp/tcache
elif [ -f .triton_cache/cache.tgz ]; then
    tar xzf .triton_cache/cache.tgz -C /tmp/tcache
fi
nvidia-smi --query-gpu=name,driver_version,clocks.sm,temperature.gpu --format=csv,noheader
python3 -c "import torch, triton; print('torch', torch.__version__, 'triton', triton.__version__, 'cuda', torch.version.cuda)"
"$@" 2>&1 | tee "$OUT/log.txt"
rc=$?
# SAVE_CACHE=0: bring nothing back (the tool returns at most 8 files)
[ "${SAVE_CACHE:-1}" = 1 ] && { tar czf - -C /tmp/tcache . 2>/dev/null | split -b 15m -d - "$OUT/cache.tgz.part"; }
exit $rc
