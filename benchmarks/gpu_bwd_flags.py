"""Two H200 measurements in one short call (bf16, B=2, H=16, D=128, causal, α = 1.5, 'rand' and
'local' inputs, triton.testing.do_bench medians):

1. The backward alone with the forward's tile map at 4k and 16k, with the dQ pass skipping by the
   forward's map (``attention_bwd.FLAGS_FROM_FORWARD = True``: the dK/dV pass computes no per-tile
   verdict) against the dK/dV pass's own verdicts (False). Gradients must be bitwise equal.
2. 32k through the public API beside cuDNN: forward, and forward+backward.

    ADASPLASH_COMPILE_AUTOTUNE=0 python benchmarks/gpu_bwd_flags.py --out DIR

Writes DIR/bwd_flags.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import adasplash_compile  # noqa: E402
from adasplash_compile.kernels import attention_bwd  # noqa: E402
from benchmarks.gpu_attention_fwd import bench, make_inputs  # noqa: E402
from benchmarks.gpu_training_sweep import backward_problem  # noqa: E402

ALPHA, D = 1.5, 128


def flags_ab(ns):
    rows = []
    for N in ns:
        for kind in ("rand", "local"):
            args, tiles = backward_problem(kind, N, D)
            grads = {}
            for flag in (True, False):
                attention_bwd.FLAGS_FROM_FORWARD = flag
                grads[flag] = attention_bwd.backward(*args, tiles=tiles)[:3]
                ms = bench(lambda: attention_bwd.backward(*args, tiles=tiles), warmup=3, rep=150 if N <= 4096 else 300)
                rows.append(dict(N=N, kind=kind, flags_from_forward=flag, ms=ms))
                print(f"[flags] N={N:5d} {kind:5s} flags from forward={flag!s:5s}: {ms:8.3f} ms", flush=True)
            same = all(torch.equal(a, b) for a, b in zip(grads[True], grads[False]))
            rows.append(dict(N=N, kind=kind, bitwise_equal=same))
            print(f"[flags] N={N:5d} {kind:5s} gradients bitwise equal: {same}", flush=True)
            del args, tiles, grads
    attention_bwd.FLAGS_FROM_FORWARD = True
    return rows


def at_32k(N=32768):
    from torch.nn.attention import SDPBackend, sdpa_kernel

    rows = []
    for kind in ("rand", "local"):
        q, k, v = (t.requires_grad_() for t in make_inputs(kind, 2, 16, N, D, seed=0))
        do = torch.randn_like(q)

        def ours_fwd():
            with torch.no_grad():
                adasplash_compile.entmax_attention(q, k, v, is_causal=True, alpha=ALPHA)

        def ours_fb():
            adasplash_compile.entmax_attention(q, k, v, is_causal=True, alpha=ALPHA).backward(do)

        def cudnn_fwd():
            with torch.no_grad(), sdpa_kernel(SDPBackend.CUDNN_ATTENTION):
                F.scaled_dot_product_attention(q, k, v, is_causal=True)

        def cudnn_fb():
            with sdpa_kernel(SDPBackend.CUDNN_ATTENTION):
                F.scaled_dot_product_attention(q, k, v, is_causal=True).backward(do)

        for name, fn in (("ours fwd", ours_fwd), ("sdpa_cudnn fwd", cudnn_fwd), ("ours fwd+bwd", ours_fb),
                         ("sdpa_cudnn fwd+bwd", cudnn_fb)):
            ms = bench(fn, warmup=2, rep=400)
            rows.append(dict(name=name, N=N, kind=kind, ms=ms))
            print(f"[32k] {name:20s} {kind:5s}: {ms:8.3f} ms", flush=True)
        del q, k, v, do
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.environ.get("OUT", "."))
    a = ap.parse_args()
    rep = dict(torch=torch.__version__, device=torch.cuda.get_device_name())
    rep["flags"] = flags_ab([4096, 16384])
    with open(os.path.join(a.out, "bwd_flags.json"), "w") as f:
        json.dump(rep, f, indent=1)
    rep["n32k"] = at_32k()
    with open(os.path.join(a.out, "bwd_flags.json"), "w") as f:
        json.dump(rep, f, indent=1)


if __name__ == "__main__":
    main()
