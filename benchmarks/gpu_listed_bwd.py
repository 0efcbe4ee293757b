"""H200: the backward's listed rows (the forward's GATHER lists, from 16k keys) against the tiles.

    # one device call, carry [".whl", ".triton_cache"]:
    SAVE_CACHE=0 bash scripts/gpu_run.sh python3 benchmarks/gpu_listed_bwd.py --out "$OUT/listed.json"

1. Accuracy, bf16 B=1 H=2 D=128 causal 'rand' at 16k: dq, dk, dv with the lists and without them
   (the training forward without ``return_lists``: every row from the tiles) against the float64
   reference, beside the error of the plain PyTorch reference in bf16 (FlashAttention's rule).
2. Time (do_bench median, ms), bf16 B=2 H=16 D=128 causal, 'rand' and 'local' at 16k and 32k:
   forward+backward through ``entmax_attention`` with the lists (the default) and without them
   (``attention.training_lists_spec`` patched to None), the backward alone, and its listed parts:
   the dQ kernel, the pairs' grouping by key block (``attention_bwd.listed_offsets`` and ``listed_pairs``) and the dK/dV kernel.
3. Determinism: N backward passes with the lists at 16k 'rand', bitwise equal.
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

from adasplash_compile import entmax_attention, reference  # noqa: E402
from adasplash_compile.kernels import attention, attention_bwd  # noqa: E402
from benchmarks.inputs import attention_inputs, deterministic_mode  # noqa: E402

DEV = "cuda"
ALPHA = 1.5


def bench(fn, rep=100):
    from triton.testing import do_bench

    return do_bench(fn, warmup=5, rep=rep, return_mode="median")


def _inputs(kind, B, H, N, D, seed=0):
    g = torch.Generator(device=DEV).manual_seed(seed)
    q, k, v = attention_inputs(kind, B, H, N, D, dtype=torch.bfloat16, device=DEV, generator=g)
    do = torch.randn(q.shape, device=DEV, dtype=torch.bfloat16, generator=g)
    return q, k, v, do


def _no_lists(fn):
    real = attention.training_lists_spec
    attention.training_lists_spec = lambda *a, **kw: None
    try:
        return fn()
    finally:
        attention.training_lists_spec = real


def _grads(q, k, v, do):
    leaves = [t.detach().clone().requires_grad_() for t in (q, k, v)]
    out = entmax_attention(*leaves, is_causal=True, alpha=ALPHA)
    return torch.autograd.grad(out, leaves, do)


def accuracy(N=16384):
    q, k, v, do = _inputs("rand", 1, 2, N, 128, seed=1)
    with_lists = _grads(q, k, v, do)
    tiles_only = _no_lists(lambda: _grads(q, k, v, do))
    scale = q.shape[-1] ** -0.5
    want = reference.entmax_attention_backward(do.double(), q.double(), k.double(), v.double(), None, True, scale,
                                               alpha=ALPHA)[:3]
    # the plain PyTorch reference on the bf16 inputs (matmuls in bf16, entmax in fp32): the FA rule's
    # baseline; and the exact gradients rounded to bf16 (the best any bf16 result can do)
    plain = reference.entmax_attention_backward(do, q, k, v, None, True, scale, alpha=ALPHA)[:3]
    rounded = [w.to(torch.bfloat16) for w in want]
    rows = []
    for name, a, b, w, p, r in zip(("dq", "dk", "dv"), with_lists, tiles_only, want, plain, rounded):
        err = lambda t: (t.double() - w).abs().max().item()  # noqa: E731
        scale_w = w.abs().max().item()
        row = dict(grad=name, err_lists=err(a), err_tiles=err(b), err_plain_bf16=err(p), err_rounded=err(r),
                   max_abs=scale_w, lists_vs_tiles=(a.double() - b.double()).abs().max().item())
        row["fa_rule_3x_ok"] = row["err_lists"] <= 3 * row["err_plain_bf16"]
        rows.append(row)
        print(f"[accuracy] {name}: lists {row['err_lists']:.3e}  tiles {row['err_tiles']:.3e}  "
              f"plain bf16 {row['err_plain_bf16']:.3e}  exact rounded {row['err_rounded']:.3e}  (max |g| "
              f"{scale_w:.3e}; lists vs tiles {row['lists_vs_tiles']:.3e}); 3x rule {row['fa_rule_3x_ok']}",
              flush=True)
    return rows


# (LISTED_BLOCK_M, LISTED_BLOCK_N, LISTED_CHUNK, LISTED_WARPS, LISTED_STAGES); the first is the
# default. Session 11 call B (stages 1; backward alone, ms): (16, 16, 32, 4) 7.03, (16, 16, 64, 4)
# 8.05, (16, 16, 32, 8) 9.59, (16, 16, 16, 4) 9.11, (32, 16, 32, 4) 7.87, (16, 32, 32, 4) 9.05,
# (16, 64, 64, 4) 10.54, (32, 32, 64, 8) 9.78. Session 10's kernels were swept in its calls B, C.
LISTED_SWEEP = [(16, 16, 32, 4, 1), (16, 16, 32, 4, 2), (16, 16, 32, 4, 3), (16, 16, 64, 4, 2), (16, 16, 64, 4, 3),
                (16, 16, 32, 8, 3), (16, 16, 16, 4, 3), (16, 32, 32, 4, 3)]
_KNOBS = ("LISTED_BLOCK_M", "LISTED_BLOCK_N", "LISTED_CHUNK", "LISTED_WARPS", "LISTED_STAGES")


def sweep_listed(args, tiles, lists, counts):
    """The backward alone under each listed-kernel config (16k 'rand', the first point)."""
    rows = []
    saved = [getattr(attention_bwd, n) for n in _KNOBS]
    try:
        for cfg in LISTED_SWEEP:
            for n, val in zip(_KNOBS, cfg):
                setattr(attention_bwd, n, val)
            fn = lambda: attention_bwd.backward(*args, tiles=tiles, lists=lists, counts=counts)  # noqa: E731
            t0 = time.time()
            try:
                fn()
            except Exception as e:  # a config Triton fails to compile
                print(f"[sweep] listed {cfg}: {type(e).__name__}", flush=True)
                rows.append(dict(sweep=list(cfg), error=type(e).__name__))
                continue
            torch.cuda.synchronize()
            first = time.time() - t0
            ms = bench(fn)
            rows.append(dict(sweep=list(cfg), bwd=ms, first_call_s=first))
            print(f"[sweep] listed (BLOCK_M, BLOCK_N, chunk, warps, stages) {cfg}: bwd {ms:.3f} ms (first call {first:.1f} s)",
                  flush=True)
    finally:
        for n, val in zip(_KNOBS, saved):
            setattr(attention_bwd, n, val)
    return rows


def timing(points, sweep=False):
    rows = []
    B, H, D = 2, 16, 128
    scale = D ** -0.5
    for N in points:
        for kind in ("rand", "local"):
            q, k, v, do = _inputs(kind, B, H, N, D)
            leaves = [t.detach().clone().requires_grad_() for t in (q, k, v)]

            def step():
                out = entmax_attention(*leaves, is_causal=True, alpha=ALPHA)
                torch.autograd.grad(out, leaves, do)

            t0 = time.time()
            step()
            torch.cuda.synchronize()
            first = time.time() - t0
            fb = bench(step)
            fb_tiles = _no_lists(lambda: bench(step))
            fwd_train = bench(lambda: attention.forward(q, k, v, None, True, scale, ALPHA, None, True,
                                                        return_tiles=True, return_lists=True))
            out, tau, o2, tiles, lists, counts = attention.forward(q, k, v, None, True, scale, ALPHA, None, True,
                                                                   return_tiles=True, return_lists=True)
            args = (do, q, k, v, None, out, tau, o2, True, scale, ALPHA, None, False)
            bwd = bench(lambda: attention_bwd.backward(*args, tiles=tiles, lists=lists, counts=counts))
            listed = (counts > 0).float().mean().item() if counts.numel() else 0.0
            mean_len = (counts.float().sum() / max(1, int((counts > 0).sum()))).item() if counts.numel() else 0.0
            mod = attention_bwd._kernels(q, v, "15", "none", True, False, False, True, False, True)
            sort_ms = (bench(lambda: attention_bwd.listed_pairs(
                mod, lists, counts, attention_bwd.listed_offsets(counts, lists.shape[-1]), k.shape[1], N,
                attention_bwd.LISTED_BLOCK_N)) if counts.numel() else 0.0)
            if kind == "rand" and N == points[0] and sweep:
                rows.extend(sweep_listed(args, tiles, lists, counts))
            row = dict(N=N, input=kind, first_call_s=first, fwd_bwd_lists=fb, fwd_bwd_tiles=fb_tiles,
                       fwd_train=fwd_train, bwd_lists=bwd, sort=sort_ms, listed_rows=listed, mean_list=mean_len)
            # the parts: the backward with the listed kernels left out (dense passes and the sort),
            # and with one of them
            for parts, name in (((), "bwd_no_listed_kernels"), (("dq",), "bwd_listed_dq_only"),
                                (("dkdv",), "bwd_listed_dkdv_only")):
                attention_bwd.LISTED_PARTS = parts
                try:
                    row[name] = bench(lambda: attention_bwd.backward(*args, tiles=tiles, lists=lists, counts=counts))
                finally:
                    attention_bwd.LISTED_PARTS = ("dq", "dkdv")
            base = row["bwd_no_listed_kernels"]
            rows.append(row)
            print(f"[time] N={N} {kind:5s} fwd+bwd lists {fb:.3f} ms, tiles only {fb_tiles:.3f}; training fwd "
                  f"{fwd_train:.3f}; bwd {bwd:.3f} = dense passes + sort {base:.3f} (sort alone {sort_ms:.3f}) + "
                  f"listed dQ {row['bwd_listed_dq_only'] - base:.3f} + listed dK/dV "
                  f"{row['bwd_listed_dkdv_only'] - base:.3f}; listed rows {listed:.4f}, mean list {mean_len:.1f}; "
                  f"first call {first:.1f} s", flush=True)
            del q, k, v, do, leaves, out, tau, o2, tiles, lists, counts
            torch.cuda.empty_cache()
    return rows


def determinism(n, N=16384):
    q, k, v, do = _inputs("rand", 2, 16, N, 128, seed=2)
    with deterministic_mode():
        first = _grads(q, k, v, do)
        for i in range(n - 1):
            again = _grads(q, k, v, do)
            for name, a, b in zip(("dq", "dk", "dv"), first, again):
                if not torch.equal(a, b):
                    print(f"[determinism] run {i + 1}: {name} differs", flush=True)
                    return False
    print(f"[determinism] {n} backward passes with the lists at {N} 'rand' in deterministic mode bitwise equal",
          flush=True)
    return True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="listed.json")
    ap.add_argument("--points", default="16384,32768")
    ap.add_argument("--determinism", type=int, default=50)
    ap.add_argument("--skip-accuracy", action="store_true")
    ap.add_argument("--sweep", action="store_true", help="listed-kernel configs at the first point, 'rand'")
    ap.add_argument("--cap", type=int, default=0, help="attention.TRAIN_GATHER_CAP for this run (0: the default)")
    ap.add_argument("--min-lk", type=int, default=0,
                    help="attention.GATHER_MIN_LK and FIXUP_MIN_LK for this run (0: the defaults)")
    ap.add_argument("--accuracy-n", type=int, default=16384)
    args = ap.parse_args()
    if args.cap:
        attention.TRAIN_GATHER_CAP = args.cap
    if args.min_lk:
        attention.GATHER_MIN_LK = attention.FIXUP_MIN_LK = args.min_lk
    res = dict(device=torch.cuda.get_device_name(), torch=torch.__version__, train_gather_cap=attention.TRAIN_GATHER_CAP,
               gather_min_lk=attention.GATHER_MIN_LK, fixup_min_lk=attention.FIXUP_MIN_LK)
    import triton

    res["triton"] = triton.__version__
    if not args.skip_accuracy:
        res["accuracy"] = accuracy(args.accuracy_n)
    res["timing"] = timing([int(x) for x in args.points.split(",")], sweep=args.sweep)
    res["determinism_ok"] = determinism(args.determinism) if args.determinism else None
    with open(args.out, "w") as f:
        json.dump(res, f, indent=1)
    print(json.dumps(res["timing"], indent=1))


if __name__ == "__main__":
    main()
