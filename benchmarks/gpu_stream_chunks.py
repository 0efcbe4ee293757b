"""Does the forward gain from running its (batch, head) slices on several streams? A probe, session 31.

From 16k keys the 'rand' forward is a main launch (sweep 1, the τ solve, the key lists), then a
gather launch that reads the lists. The gather launch waits on loads; the main launch is bound by
sweep 1's min/max issue rate. In one stream they run one after the other. Here the (b, h) slices
of one call run as separate forwards round-robin on S streams, so one slice's gather launch can
share the SMs with the next slice's main launch (and each launch's tail with the next one's
start). The slices' outputs must be bitwise equal to the one-call forward's: each row is computed
by the same programs either way.

    python benchmarks/gpu_stream_chunks.py --out DIR [--ns 4096,16384,32768] [--kinds rand,local]

Prints one line per (N, kind, chunks, streams) with the do_bench median, and writes
DIR/stream_chunks.json. Not a product path.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from adasplash_compile.kernels import attention as fwd  # noqa: E402
from benchmarks.gpu_attention_fwd import bench, make_inputs, sdpa_fn  # noqa: E402

# (chunks over B·H, streams)
VARIANTS = [(1, 1), (2, 2), (4, 2), (8, 2), (4, 4), (8, 4), (16, 4), (32, 4)]


def whole_fn(q, k, v):
    scale = 1 / math.sqrt(q.shape[-1])

    def f():
        return fwd.forward(q, k, v, None, True, scale, 1.5, None, False)[0]

    return f


def chunked_fn(q, k, v, chunks, n_streams):
    B, H = q.shape[:2]
    scale = 1 / math.sqrt(q.shape[-1])
    per = B * H // chunks
    assert per * chunks == B * H and (H % per == 0 or per % H == 0)
    slices = []
    for c in range(chunks):
        lo = c * per
        if per >= H:  # whole batches
            b0, b1 = lo // H, (lo + per) // H
            slices.append((slice(b0, b1), slice(0, H)))
        else:
            b, h0 = divmod(lo, H)
            slices.append((slice(b, b + 1), slice(h0, h0 + per)))
    streams = [torch.cuda.Stream() for _ in range(n_streams)]
    out = torch.empty_like(q)

    def f():
        cur = torch.cuda.current_stream()
        for s in streams:
            s.wait_stream(cur)
        for i, (bs, hs) in enumerate(slices):
            s = streams[i % n_streams]
            with torch.cuda.stream(s):
                o = fwd.forward(q[bs, hs], k[bs, hs], v[bs, hs], None, True, scale, 1.5, None, False)[0]
                out[bs, hs].copy_(o)
        for s in streams:
            cur.wait_stream(s)
        return out

    return f


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ns", default="4096,16384,32768")
    ap.add_argument("--kinds", default="rand,local")
    ap.add_argument("--out", default=os.environ.get("OUT", "."))
    ap.add_argument("--budget", type=float, default=240.0)
    a = ap.parse_args()
    rows, t0 = [], time.time()
    for N in [int(n) for n in a.ns.split(",")]:
        for kind in a.kinds.split(","):
            q, k, v = make_inputs(kind, 2, 16, N, 128, seed=0)
            ref = whole_fn(q, k, v)().clone()
            systems = [("sdpa_cudnn", sdpa_fn("cudnn", q, k, v, True), None), ("whole", whole_fn(q, k, v), None)]
            systems += [(f"chunks {c} streams {s}", chunked_fn(q, k, v, c, s), (c, s)) for c, s in VARIANTS]
            for name, fn, var in systems:
                if time.time() - t0 > a.budget:
                    print(f"[chunks] budget spent, skipping {name} N={N} {kind}", flush=True)
                    continue
                same = None
                if var is not None:
                    o = fn()
                    o.fill_(float("nan"))  # poisoned, then written again
                    torch.cuda.synchronize()
                    same = bool(torch.equal(fn(), ref))
                ms = bench(fn, warmup=5, rep=100 if N <= 4096 else 300)
                rows.append(dict(name=name, N=N, kind=kind, ms=ms, bitwise_equal=same))
                print(f"[chunks] {name:22s} N={N:5d} {kind:5s}: {ms:8.3f} ms"
                      + ("" if same is None else f"  (bitwise equal: {same})"), flush=True)
            del q, k, v, ref
    meta = dict(torch=torch.__version__, device=torch.cuda.get_device_name(),
                shape=dict(B=2, H=16, D=128, causal=True, dtype="bfloat16", alpha=1.5), rows=rows)
    with open(os.path.join(a.out, "stream_chunks.json"), "w") as f:
        json.dump(meta, f, indent=1)


if __name__ == "__main__":
    main()
