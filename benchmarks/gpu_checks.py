"""GPU-only checks the interpreter cannot make: memory safety under compute-sanitizer, and bitwise
determinism of the backward at the benchmark shape.

    # one device call, carry [".whl"]:
    SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_checks.sh

``--small`` runs every kernel family once at small, awkward shapes (lengths not multiples of the
tiles, head dims 80 and 24, GQA, masks, per-head α, the split forward and the per-tile histogram),
meant to run under ``compute-sanitizer --tool memcheck``. ``--determinism N`` runs the backward N
times at bf16, B=2, H=16, N=4096, D=128, causal, 'rand', with per-head α, and requires every
gradient to be bitwise equal across runs. Exit status 1 on any failure.
"""

from __future__ import annotations

import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from adasplash_compile import entmax, entmax_attention  # noqa: E402
from adasplash_compile.kernels import attention, configs  # noqa: E402
from benchmarks.inputs import attention_inputs  # noqa: E402


def _sync(dev):
    if dev == "cuda":
        torch.cuda.synchronize()


def small(dev="cuda", all_configs: bool = True) -> bool:
    torch.manual_seed(0)
    ok = True
    # row-wise first (a few kernels), then every attention case per forward config
    x = torch.randn(37, 1000, device=dev)
    x.requires_grad_()
    entmax(x, alpha=1.5).square().sum().backward()
    entmax(torch.randn(3, 40000, device=dev), alpha=1.3)  # the looping row-wise path
    if dev == "cuda":
        from adasplash_compile.kernels import rowwise
        rowwise.entmax_forward(torch.randn(37, 4096, device=dev), 1.5, bracket="top")
        rowwise.entmax_forward(torch.randn(5, 1000, device=dev), 2.0, bracket="top", topk=1)
    _sync(dev)
    print("[small] row-wise ok", flush=True)
    cases = [
        dict(B=1, H=2, Hk=2, Lq=77, Lk=77, D=80, causal=True, alpha=1.5, mask=None),
        dict(B=2, H=4, Hk=2, Lq=33, Lk=130, D=24, causal=False, alpha=2.0, mask="keypad"),
        dict(B=1, H=3, Hk=3, Lq=65, Lk=50, D=64, causal=False, alpha="per-head", mask="float"),
        dict(B=1, H=2, Hk=1, Lq=1, Lk=300, D=128, causal=False, alpha=1.3, mask=None),
    ]
    # "fix-up": the default ("subset") forward with one candidate per score position and the fix-up
    # launch at any length, so that many rows go through the fix-up kernel
    variants = [None, "fix-up", configs.FwdConfig(64, 64, 4, 3, hist="tile"), configs.FwdConfig(64, 64, 4, 3, split=True)]
    if not all_configs:
        variants = variants[:2]
    defaults = attention.SUBSET_TOPK, attention.FIXUP_MIN_LK
    for cfg in variants:
        attention.SUBSET_TOPK, attention.FIXUP_MIN_LK = (1, 0) if cfg == "fix-up" else defaults
        if isinstance(cfg, configs.FwdConfig):
            attention.configs.fwd_default = lambda dtype, dr, cfg=cfg: cfg
        for c in cases:
            q = torch.randn(c["B"], c["H"], c["Lq"], c["D"], device=dev, dtype=torch.bfloat16, requires_grad=True)
            k = torch.randn(c["B"], c["Hk"], c["Lk"], c["D"], device=dev, dtype=torch.bfloat16, requires_grad=True)
            v = torch.randn(c["B"], c["Hk"], c["Lk"], c["D"], device=dev, dtype=torch.bfloat16, requires_grad=True)
            mask = None
            if c["mask"] == "keypad":
                mask = torch.rand(c["B"], 1, 1, c["Lk"], device=dev) > 0.3
            elif c["mask"] == "float":
                mask = torch.randn(c["Lq"], c["Lk"], device=dev, dtype=torch.bfloat16)
            alpha = (torch.linspace(1.3, 2.5, c["H"], device=dev).requires_grad_() if c["alpha"] == "per-head"
                     else c["alpha"])
            out = entmax_attention(q, k, v, attn_mask=mask, is_causal=c["causal"], enable_gqa=c["Hk"] != c["H"],
                                   alpha=alpha)
            out.float().square().sum().backward()
            _sync(dev)
            bad = [n for n, t in (("out", out), ("dq", q.grad), ("dk", k.grad), ("dv", v.grad)) if not torch.isfinite(t).all()]
            print(f"[small] {cfg} {c}: {'non-finite ' + ','.join(bad) if bad else 'ok'}", flush=True)
            ok &= not bad
    return ok


def determinism(n: int, dev="cuda") -> bool:
    g = torch.Generator(device=dev).manual_seed(0)
    q, k, v = attention_inputs("rand", 2, 16, 4096, 128, dtype=torch.bfloat16, device=dev, generator=g)
    do = torch.randn(q.shape, device=dev, dtype=torch.bfloat16, generator=g)
    alpha = torch.linspace(1.3, 2.0, 16, device=dev)
    first = None
    for i in range(n):
        qq, kk, vv, aa = (t.detach().clone().requires_grad_() for t in (q, k, v, alpha))
        out = entmax_attention(qq, kk, vv, is_causal=True, alpha=aa)
        grads = torch.autograd.grad(out, (qq, kk, vv, aa), do)
        if first is None:
            first = grads
            continue
        for name, a, b in zip(("dq", "dk", "dv", "dalpha"), first, grads):
            if not torch.equal(a, b):
                print(f"[determinism] run {i}: {name} differs (max {(a.float() - b.float()).abs().max().item():.3e})")
                return False
    print(f"[determinism] {n} backward passes bitwise equal (dq, dk, dv, dα)", flush=True)
    return True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--small", action="store_true")
    ap.add_argument("--default-config-only", action="store_true",
                    help="--small with the default forward config only (fewer kernels to compile)")
    ap.add_argument("--determinism", type=int, default=0)
    ap.add_argument("--device", default="cuda", help="cpu: the same runs through TRITON_INTERPRET=1 (script check)")
    args = ap.parse_args()
    ok = True
    if args.small:
        ok &= small(args.device, not args.default_config_only)
    if args.determinism:
        ok &= determinism(args.determinism, args.device)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
