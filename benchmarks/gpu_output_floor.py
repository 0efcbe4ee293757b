"""What the forward's output sweep could cost as its own launch, on the H200: a stand-alone probe of
Σ p·v / Σ p with p = [x − τ]₊² (α = 1.5) over every causal key tile, from the τ the product's
forward returns, at several tile shapes, with pointer loads or tensor descriptors, and with Triton's
automatic warp specialization on the descriptor loop.

The question (session 31): on 'rand' inputs every causal 64x64 tile holds support, so the fused
kernel's output sweep is a dense flash-style loop at sweep 1's tile (64x64, 4 warps: sweep 1's
candidates set it). It takes ~0.34 ms of the 0.75 ms 4k forward, against cuDNN's whole softmax
forward at 0.26 ms. A separate output launch could take a wider tile. If that loop alone is not
clearly faster than the fused kernel's share, the split cannot pay for its second launch, the
second read of Q and the key ranges it must be handed.

    python benchmarks/gpu_output_floor.py --out DIR [--ns 4096,16384]

Prints one line per (variant, N) and writes DIR/output_floor.json. Each probe's output is compared
with the product forward's (max abs difference; the probes sum the same weights in other orders).
Not a product kernel.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

import torch
import triton
import triton.language as tl

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import adasplash_compile  # noqa: E402
from adasplash_compile.kernels import attention as fwd  # noqa: E402
from benchmarks.gpu_attention_fwd import bench, make_inputs, sdpa_fn  # noqa: E402


@triton.jit
def _tile_ptr(Q, K, V, TAU, O, N, c_x, stride_h, stride_n,
              D: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr):
    pid_m = tl.num_programs(0) - 1 - tl.program_id(0)
    bh = tl.program_id(1)
    offs_m = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    offs_d = tl.arange(0, D)
    base = bh.to(tl.int64) * stride_h
    q = tl.load(Q + base + offs_m[:, None] * stride_n + offs_d[None, :])
    tau = tl.load(TAU + bh.to(tl.int64) * N + offs_m)
    acc = tl.zeros([BLOCK_M, D], tl.float32)
    l_i = tl.zeros([BLOCK_M], tl.float32)
    n_full = (pid_m * BLOCK_M) // BLOCK_N
    hi = tl.cdiv((pid_m + 1) * BLOCK_M, BLOCK_N)
    for jb in range(0, n_full):
        offs_n = jb * BLOCK_N + tl.arange(0, BLOCK_N)
        k = tl.load(K + base + offs_n[:, None] * stride_n + offs_d[None, :])
        y = tl.maximum(tl.dot(q, tl.trans(k)) * c_x - tau[:, None], 0.0)
        p = y * y
        l_i += tl.sum(p, 1)
        v = tl.load(V + base + offs_n[:, None] * stride_n + offs_d[None, :])
        acc = tl.dot(p.to(v.dtype), v, acc)
    for jb in range(n_full, hi):
        offs_n = jb * BLOCK_N + tl.arange(0, BLOCK_N)
        k = tl.load(K + base + offs_n[:, None] * stride_n + offs_d[None, :])
        x = tl.dot(q, tl.trans(k)) * c_x
        y = tl.where(offs_n[None, :] <= offs_m[:, None], tl.maximum(x - tau[:, None], 0.0), 0.0)
        p = y * y
        l_i += tl.sum(p, 1)
        v = tl.load(V + base + offs_n[:, None] * stride_n + offs_d[None, :])
        acc = tl.dot(p.to(v.dtype), v, acc)
    out = acc / l_i[:, None]
    tl.store(O + base + offs_m[:, None] * stride_n + offs_d[None, :], out.to(O.dtype.element_ty))


@triton.jit
def _tile_desc(Q, K, V, TAU, O, BH, N, c_x,
               D: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, WS: tl.constexpr):
    pid_m = tl.num_programs(0) - 1 - tl.program_id(0)
    bh = tl.program_id(1)
    q_desc = tl.make_tensor_descriptor(Q, shape=[BH * N, D], strides=[D, 1], block_shape=[BLOCK_M, D])
    k_desc = tl.make_tensor_descriptor(K, shape=[BH * N, D], strides=[D, 1], block_shape=[BLOCK_N, D])
    v_desc = tl.make_tensor_descriptor(V, shape=[BH * N, D], strides=[D, 1], block_shape=[BLOCK_N, D])
    o_desc = tl.make_tensor_descriptor(O, shape=[BH * N, D], strides=[D, 1], block_shape=[BLOCK_M, D])
    offs_m = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    row0 = bh * N
    q = q_desc.load([row0 + pid_m * BLOCK_M, 0])
    tau = tl.load(TAU + bh.to(tl.int64) * N + offs_m)
    acc = tl.zeros([BLOCK_M, D], tl.float32)
    l_i = tl.zeros([BLOCK_M], tl.float32)
    n_full = (pid_m * BLOCK_M) // BLOCK_N
    hi = tl.cdiv((pid_m + 1) * BLOCK_M, BLOCK_N)
    for jb in tl.range(0, n_full, warp_specialize=WS):
        k = k_desc.load([row0 + jb * BLOCK_N, 0])
        y = tl.maximum(tl.dot(q, tl.trans(k)) * c_x - tau[:, None], 0.0)
        p = y * y
        l_i += tl.sum(p, 1)
        v = v_desc.load([row0 + jb * BLOCK_N, 0])
        acc = tl.dot(p.to(v.dtype), v, acc)
    for jb in range(n_full, hi):
        offs_n = jb * BLOCK_N + tl.arange(0, BLOCK_N)
        k = k_desc.load([row0 + jb * BLOCK_N, 0])
        x = tl.dot(q, tl.trans(k)) * c_x
        y = tl.where(offs_n[None, :] <= offs_m[:, None], tl.maximum(x - tau[:, None], 0.0), 0.0)
        p = y * y
        l_i += tl.sum(p, 1)
        v = v_desc.load([row0 + jb * BLOCK_N, 0])
        acc = tl.dot(p.to(v.dtype), v, acc)
    out = acc / l_i[:, None]
    o_desc.store([row0 + pid_m * BLOCK_M, 0], out.to(o_desc.dtype))


# (kind, BLOCK_M, BLOCK_N, warps, stages, WS)
VARIANTS = [("ptr", 64, 64, 4, 3, 0), ("ptr", 128, 64, 4, 3, 0), ("ptr", 128, 64, 8, 3, 0),
            ("ptr", 128, 128, 8, 3, 0), ("ptr", 128, 128, 8, 2, 0), ("ptr", 64, 128, 4, 3, 0),
            ("desc", 64, 64, 4, 3, 0), ("desc", 128, 64, 8, 3, 0), ("desc", 128, 128, 8, 3, 0),
            ("desc", 128, 64, 4, 3, 1), ("desc", 128, 128, 4, 2, 1), ("desc", 128, 128, 4, 3, 1)]


def probe_fn(q, k, v, tau, variant):
    B, H, N, D = q.shape
    kind, bm, bn, w, s, ws = variant
    o = torch.empty_like(q)
    c_x = 0.5 / math.sqrt(D)
    grid = (N // bm, B * H)
    if kind == "ptr":
        def f():
            _tile_ptr[grid](q, k, v, tau, o, N, c_x, q.stride(1), q.stride(2), D=D, BLOCK_M=bm, BLOCK_N=bn,
                            num_warps=w, num_stages=s)
            return o
    else:
        def f():
            _tile_desc[grid](q, k, v, tau, o, B * H, N, c_x, D=D, BLOCK_M=bm, BLOCK_N=bn, WS=bool(ws),
                             num_warps=w, num_stages=s)
            return o
    return f


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ns", default="4096,16384")
    ap.add_argument("--out", default=os.environ.get("OUT", "."))
    ap.add_argument("--budget", type=float, default=200.0)
    a = ap.parse_args()
    triton.set_allocator(lambda size, align, stream: torch.empty(size, dtype=torch.int8, device="cuda"))
    rows, t0 = [], time.time()
    for N in [int(n) for n in a.ns.split(",")]:
        q, k, v = make_inputs("rand", 2, 16, N, 128, seed=0)
        ref, tau = fwd.forward(q, k, v, None, True, 1 / math.sqrt(128), 1.5, None, False)[:2]
        tau = tau.float().contiguous()
        systems = [("sdpa_cudnn fwd", sdpa_fn("cudnn", q, k, v, True), False),
                   ("product forward", lambda: adasplash_compile.entmax_attention(q, k, v, is_causal=True), True),
                   ("product sweep 1", fwd.profile_variant(q, k, v, True, stop_after="sweep1"), False)]
        systems += [("probe " + "{} {}x{}/{}w/{}s".format(*var[:5]) + (" WS" if var[5] else ""),
                     probe_fn(q, k, v, tau, var), True) for var in VARIANTS]
        for name, fn, check in systems:
            if time.time() - t0 > a.budget:
                print(f"[out] budget spent, skipping {name} N={N}", flush=True)
                continue
            try:
                if check:
                    o = fn()
                    o.fill_(float("nan"))  # poison, then run once more for the comparison
                    err = (fn().float() - ref.float()).abs().max().item()
                else:
                    err = None
                ms = bench(fn, warmup=5, rep=100 if N <= 4096 else 300)
            except Exception as e:  # one variant failing (registers, shared memory) must not lose the rest
                print(f"[out] {name} N={N}: FAILED {type(e).__name__}: {str(e)[:300]}", flush=True)
                continue
            rows.append(dict(name=name, N=N, ms=ms, max_abs_diff_vs_product=err))
            print(f"[out] {name:36s} N={N:5d}: {ms:8.3f} ms" + ("" if err is None else f"  max|diff| {err:.2e}"),
                  flush=True)
        del q, k, v
    meta = dict(torch=torch.__version__, triton=triton.__version__, device=torch.cuda.get_device_name(),
                shape=dict(B=2, H=16, D=128, causal=True, dtype="bfloat16", kind="rand", alpha=1.5), rows=rows)
    with open(os.path.join(a.out, "output_floor.json"), "w") as f:
        json.dump(meta, f, indent=1)


if __name__ == "__main__":
    main()
