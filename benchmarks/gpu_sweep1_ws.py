"""Does Triton's automatic warp specialization (``tl.range(..., warp_specialize=True)``, Hopper's
pass in Triton 3.6) let sweep 1's top-4 insertion overlap its Q·Kᵀ on the H200? A stand-alone probe
kernel: the scores of a causal sweep over the key tiles (K through a tensor descriptor, as the
pass needs TMA loads), the running row max and the sorted insertion of every score into the TOPK
largest per score position (2·TOPK min/max per score), as ``gpu_sweep1_floor.py``'s probe does.

With WS at BLOCK_M = 128 and 4 warps the pass splits the rows between two consumer warpgroups
(64 rows each, 232 registers) and a producer warpgroup that issues the TMA loads (12 warps in
all). The consumers synchronise only with the producer, so one can run its insertion while the
other's wgmma runs. Not a product kernel: it answers whether the product's sweep 1 could gain by
moving to descriptors and WS.

    python benchmarks/gpu_sweep1_ws.py --out DIR [--ns 4096,16384]

Writes DIR/sweep1_ws.json and prints one line per (variant, N, input).
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


@triton.jit
def _probe_ws(Q, K, M_OUT, C_OUT, BH, N, c_qk,
              D: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, TOPK: tl.constexpr,
              WS: tl.constexpr):
    pid_m = tl.num_programs(0) - 1 - tl.program_id(0)
    bh = tl.program_id(1)
    q_desc = tl.make_tensor_descriptor(Q, shape=[BH * N, D], strides=[D, 1], block_shape=[BLOCK_M, D])
    k_desc = tl.make_tensor_descriptor(K, shape=[BH * N, D], strides=[D, 1], block_shape=[BLOCK_N, D])
    offs_m = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    q = q_desc.load([bh * N + pid_m * BLOCK_M, 0])
    hi = tl.cdiv((pid_m + 1) * BLOCK_M, BLOCK_N)
    m_i = tl.full([BLOCK_M], float("-inf"), tl.float32)
    ev = tl.full([BLOCK_M], float("-inf"), tl.float32)
    c0 = tl.full([BLOCK_M, BLOCK_N], float("-inf"), tl.float32)
    c1 = tl.full([BLOCK_M, BLOCK_N], float("-inf"), tl.float32)
    c2 = tl.full([BLOCK_M, BLOCK_N], float("-inf"), tl.float32)
    c3 = tl.full([BLOCK_M, BLOCK_N], float("-inf"), tl.float32)
    for i in tl.range(0, hi, warp_specialize=WS):
        jb = hi - 1 - i
        offs_n = jb * BLOCK_N + tl.arange(0, BLOCK_N)
        k = k_desc.load([bh * N + jb * BLOCK_N, 0])
        x = tl.dot(q, tl.trans(k)) * c_qk
        x = tl.where(offs_n[None, :] <= offs_m[:, None], x, float("-inf"))
        m_i = tl.maximum(m_i, tl.max(x, 1))
        out_ = x
        if TOPK >= 1:
            c0, out_ = tl.maximum(c0, out_), tl.minimum(c0, out_)
        if TOPK >= 2:
            c1, out_ = tl.maximum(c1, out_), tl.minimum(c1, out_)
        if TOPK >= 3:
            c2, out_ = tl.maximum(c2, out_), tl.minimum(c2, out_)
        if TOPK >= 4:
            c3, out_ = tl.maximum(c3, out_), tl.minimum(c3, out_)
        if TOPK >= 1:
            ev = tl.maximum(ev, tl.max(out_, 1))
    # consume everything so nothing is dropped
    chk = ev
    if TOPK >= 1:
        chk += tl.sum(tl.where(c0 > m_i[:, None] - 1.0, c0, 0.0), 1)
    if TOPK >= 2:
        chk += tl.sum(tl.where(c1 > m_i[:, None] - 1.0, c1, 0.0), 1)
    if TOPK >= 3:
        chk += tl.sum(tl.where(c2 > m_i[:, None] - 1.0, c2, 0.0), 1)
    if TOPK >= 4:
        chk += tl.sum(tl.where(c3 > m_i[:, None] - 1.0, c3, 0.0), 1)
    tl.store(M_OUT + bh.to(tl.int64) * N + offs_m, m_i)
    tl.store(C_OUT + bh.to(tl.int64) * N + offs_m, chk)


# (BLOCK_M, BLOCK_N, warps, stages, TOPK, WS); with WS the kernel runs 3x the warps
VARIANTS = [(64, 64, 4, 3, 0, 0), (64, 64, 4, 3, 4, 0), (128, 64, 8, 3, 4, 0),
            (128, 64, 4, 3, 0, 1), (128, 64, 4, 3, 4, 1), (128, 64, 4, 2, 4, 1), (128, 64, 4, 4, 4, 1),
            (128, 32, 4, 3, 4, 1), (128, 128, 4, 2, 2, 1)]


def compile_check(variants=VARIANTS):
    """Compile every variant for sm_90a on the CPU (no GPU): registers, spills, warps."""
    import re
    import subprocess
    import tempfile

    import triton.backends.nvidia as nb
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource

    fn = _probe_ws
    for bm, bn, w, s, topk, ws in variants:
        sig = dict(Q="*bf16", K="*bf16", M_OUT="*fp32", C_OUT="*fp32", BH="i32", N="i32", c_qk="fp32",
                   D="constexpr", BLOCK_M="constexpr", BLOCK_N="constexpr", TOPK="constexpr", WS="constexpr")
        const = dict(D=128, BLOCK_M=bm, BLOCK_N=bn, TOPK=topk, WS=bool(ws))
        attrs = {(fn.arg_names.index(n),): [["tt.divisibility", 16]] for n in ("Q", "K", "M_OUT", "C_OUT", "N")}
        src = ASTSource(fn=fn, signature=sig, constexprs={(fn.arg_names.index(c),): v for c, v in const.items()},
                        attrs=attrs)
        try:
            k = triton.compile(src, target=GPUTarget("cuda", 90, 128), options={"num_warps": w, "num_stages": s})
        except Exception as e:
            print(bm, bn, w, s, topk, ws, "FAILED", type(e).__name__, str(e)[:300], flush=True)
            continue
        with tempfile.NamedTemporaryFile("w", suffix=".ptx", delete=False) as f:
            f.write(k.asm["ptx"])
        r = subprocess.run([os.path.join(os.path.dirname(nb.__file__), "bin", "ptxas"), "-v", "--gpu-name", "sm_90a",
                            f.name, "-o", os.devnull], capture_output=True, text=True)
        os.unlink(f.name)
        regs = re.search(r"Used (\d+) registers", r.stderr)
        sp = re.search(r"(\d+) bytes spill stores", r.stderr)
        print(f"{bm}x{bn}/{w}w/{s}s top-{topk} ws={ws}: warps {k.metadata.num_warps}, "
              f"regs {regs and regs.group(1)}, spill {sp.group(1) if sp else 0}, "
              f"setmaxnreg {k.asm['ptx'].count('setmaxnreg')}", flush=True)


def probe_fn(q, k, variant):
    B, H, N, D = q.shape
    bm, bn, w, s, topk, ws = variant
    qf, kf = q.reshape(B * H * N, D), k.reshape(B * H * N, D)
    m = torch.empty(B * H, N, device=q.device)
    c = torch.empty_like(m)
    grid = (N // bm, B * H)
    c_qk = 0.5 / math.sqrt(D)

    def f():
        _probe_ws[grid](qf, kf, m, c, B * H, N, c_qk, D=D, BLOCK_M=bm, BLOCK_N=bn, TOPK=topk, WS=bool(ws),
                        num_warps=w, num_stages=s)
        return m, c

    return f


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ns", default="4096,16384")
    ap.add_argument("--out", default=os.environ.get("OUT", "."))
    ap.add_argument("--budget", type=float, default=240.0)
    ap.add_argument("--compile-check", action="store_true", help="compile for sm_90a on the CPU and stop")
    a = ap.parse_args()
    if a.compile_check:
        os.environ.pop("TRITON_INTERPRET", None)
        compile_check()
        return
    from benchmarks.gpu_attention_fwd import bench, make_inputs, sdpa_fn
    from benchmarks.gpu_sweep1_floor import probe_fn as floor_probe

    # device-side tensor descriptors need scratch memory
    triton.set_allocator(lambda size, align, stream: torch.empty(size, dtype=torch.int8, device="cuda"))
    rows = []
    t0 = time.time()
    for N in [int(n) for n in a.ns.split(",")]:
        for kind in ("rand",):
            q, k, v = make_inputs(kind, 2, 16, N, 128, seed=0)
            systems = [("sdpa_cudnn fwd", sdpa_fn("cudnn", q, k, v, True), None),
                       ("floor probe 64x64/4w/3s top-4 (pointers)", floor_probe(q, k, (64, 64, 4, 3), 4, 0), None)]
            systems += [(f"desc {bm}x{bn}/{w}w/{s}s top-{topk}" + (" WS" if ws else ""), probe_fn(q, k, var), var)
                        for var in VARIANTS for bm, bn, w, s, topk, ws in [var]]
            ref = {}
            for name, fn, var in systems:
                if time.time() - t0 > a.budget:
                    print(f"[ws] budget spent, skipping {name} N={N}", flush=True)
                    continue
                try:
                    ms = bench(fn, warmup=5, rep=100 if N <= 4096 else 300)
                    same = None
                    if var is not None:
                        mx, cx = fn()
                        torch.cuda.synchronize()
                        key = var[4]
                        if key not in ref:
                            ref[key] = (mx.clone(), cx.clone())
                        same = bool(torch.equal(mx, ref[key][0])) and bool(
                            torch.allclose(cx, ref[key][1], rtol=1e-5, atol=1e-3))
                except Exception as e:  # one variant failing must not lose the rest
                    print(f"[ws] {name} N={N} {kind}: FAILED {type(e).__name__}: {str(e)[:300]}", flush=True)
                    continue
                rows.append(dict(name=name, N=N, kind=kind, ms=ms, matches_first_of_its_topk=same))
                print(f"[ws] {name:48s} N={N:5d} {kind:5s}: {ms:8.3f} ms"
                      + ("" if same is None else f"  (equal to the first of its top-k: {same})"), flush=True)
            del q, k, v
    meta = dict(torch=torch.__version__, triton=triton.__version__, device=torch.cuda.get_device_name(),
                shape=dict(B=2, H=16, D=128, causal=True, dtype="bfloat16"), rows=rows)
    with open(os.path.join(a.out, "sweep1_ws.json"), "w") as f:
        json.dump(meta, f, indent=1)


if __name__ == "__main__":
    main()
