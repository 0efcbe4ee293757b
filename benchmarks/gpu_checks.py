"""GPU-only checks the interpreter cannot make: memory safety under compute-sanitizer, and bitwise
determinism of the backward at the benchmark shape.

    # one device call, carry [".whl"]:
    SAVE_CACHE=0 bash scripts/gpu_run.sh bash scripts/gpu_call_checks.sh

``--small`` runs every kernel family once at small, awkward shapes (lengths not multiples of the
tiles, head dims 80 and 24, GQA, masks, per-head α, the split forward and the per-tile histogram),
meant to run under ``compute-sanitizer --tool memcheck``. ``--determinism N`` runs the backward N
times at bf16, B=2, H=16, N=4096, D=128, causal, 'rand', with per-head α, and requires every
gradient to be bitwise equal across runs. ``--launch`` checks outputs and gradients against float64
over calls alternating layouts, alignments, dtypes and masks (the cached kernel handles of
``kernels/launch.py``). Exit status 1 on any failure.
"""

from __future__ import annotations

import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from adasplash_compile import entmax, entmax_attention  # noqa: E402
from adasplash_compile.kernels import attention, configs  # noqa: E402
from benchmarks.inputs import attention_inputs, deterministic_mode  # noqa: E402


def _sync(dev):
    if dev == "cuda":
        torch.cuda.synchronize()


def small(dev="cuda", all_configs: bool = True, only_fixup: bool = False) -> bool:
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
    # "gather", "gather in the tile": GATHER at any length, rows dense after two probe tiles, with the
    # fix-up launch or refinement in the tile for the rows not listed
    # "gather scan": GATHER with two candidates per position and lists of 8, so that rows the
    # candidates miss go through the gather launch's scan (GATHER_SCAN, inference) and some of those
    # overflow to the late fix-up
    variants = [None, "fix-up", "gather", "gather in the tile", "gather scan",
                configs.FwdConfig(64, 64, 4, 3, hist="tile"), configs.FwdConfig(64, 64, 4, 3, split=True)]
    knobs = {"fix-up": dict(SUBSET_TOPK=1, FIXUP_MIN_LK=0),
             "gather": dict(GATHER_MIN_LK=0, FIXUP_MIN_LK=0, SUBSET_NEAR_PATIENCE=2),
             "gather in the tile": dict(GATHER_MIN_LK=0, SUBSET_FIXUP=False, SUBSET_NEAR_PATIENCE=2),
             "gather scan": dict(GATHER_MIN_LK=0, FIXUP_MIN_LK=0, SUBSET_NEAR_PATIENCE=2, SUBSET_TOPK=2,
                                 GATHER_SCAN_CAP=8)}
    if not all_configs:
        variants = variants[:5]
    if only_fixup:
        variants = ["fix-up", "gather", "gather in the tile", "gather scan"]
    defaults = {key: getattr(attention, key) for kn in knobs.values() for key in kn}
    for cfg in variants:
        for key, val in defaults.items():
            setattr(attention, key, knobs.get(cfg, {}).get(key, val))
        if isinstance(cfg, configs.FwdConfig):
            attention.configs.fwd_default = lambda dtype, dr, cfg=cfg: cfg
        # each case twice, on fresh inputs: the second call replays the first one's recorded plan
        # (attention.REPLAY: one launch, or the multi-launch forward of the fix-up / gather variants)
        for c in [c for c in cases for _ in range(2)]:
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
            kw = dict(attn_mask=mask, is_causal=c["causal"], enable_gqa=c["Hk"] != c["H"], alpha=alpha)
            with torch.no_grad():  # the inference forward (GATHER_SCAN's)
                bad_inf = not torch.isfinite(entmax_attention(q, k, v, **kw)).all()
            out = entmax_attention(q, k, v, **kw)
            out.float().square().sum().backward()
            _sync(dev)
            bad = [n for n, t in (("out", out), ("dq", q.grad), ("dk", k.grad), ("dv", v.grad)) if not torch.isfinite(t).all()]
            bad += ["inference out"] if bad_inf else []
            print(f"[small] {cfg} {c}: {'non-finite ' + ','.join(bad) if bad else 'ok'}", flush=True)
            ok &= not bad
    return ok


def _layout(kind: str, B: int, H: int, L: int, D: int, dtype, dev) -> torch.Tensor:
    """A (B, H, L, D) tensor laid out as ``kind``: "contiguous", "blhd" (a transposed view of
    (B, L, H, D), as a fused projection gives) or "offset" (contiguous, starting one element into
    its storage: not 16-byte aligned)."""
    if kind == "blhd":
        return torch.randn(B, L, H, D, device=dev, dtype=dtype).transpose(1, 2)
    if kind == "offset":
        return torch.randn(B * H * L * D + 1, device=dev, dtype=dtype)[1:].view(B, H, L, D)
    return torch.randn(B, H, L, D, device=dev, dtype=dtype)


def launches(dev="cuda", rounds: int = 3) -> bool:
    """Outputs and gradients against float64 (FlashAttention's 3x rule against plain PyTorch in the
    same dtype) through the public API, over calls that alternate layouts, alignments, dtypes,
    GQA and masks, several rounds each: after the first round every launch goes through a cached
    compiled-kernel handle (kernels/launch.py), so a handle reused for a launch it does not fit
    would show up as a wrong result."""
    from adasplash_compile import reference
    from adasplash_compile.kernels import launch

    torch.manual_seed(0)
    cases = [
        dict(layout="contiguous", dtype=torch.bfloat16, H=4, Hk=4, L=1000, D=128, causal=True, mask=False),
        dict(layout="blhd", dtype=torch.bfloat16, H=4, Hk=4, L=1000, D=128, causal=True, mask=False),
        dict(layout="offset", dtype=torch.bfloat16, H=4, Hk=4, L=1000, D=128, causal=True, mask=False),
        dict(layout="contiguous", dtype=torch.float16, H=4, Hk=2, L=777, D=64, causal=False, mask=True),
        dict(layout="blhd", dtype=torch.float32, H=2, Hk=2, L=300, D=80, causal=True, mask=False),
        dict(layout="offset", dtype=torch.bfloat16, H=4, Hk=1, L=513, D=128, causal=False, mask=True),
    ]
    ok = True
    for rnd in range(rounds):
        for c in cases:
            B, H, Hk, L, D, dt = 1, c["H"], c["Hk"], c["L"], c["D"], c["dtype"]
            L = L if dev == "cuda" else max(17, L // 20)  # the interpreter (script check): small
            q = _layout(c["layout"], B, H, L, D, dt, dev).requires_grad_()
            k = _layout(c["layout"], B, Hk, L, D, dt, dev).requires_grad_()
            v = _layout(c["layout"], B, Hk, L, D, dt, dev).requires_grad_()
            mask = (torch.rand(B, 1, 1, L, device=dev) > 0.2) if c["mask"] else None
            do = torch.randn(B, H, L, D, device=dev, dtype=dt)
            kw = dict(attn_mask=mask, is_causal=c["causal"], enable_gqa=H != Hk)
            out = entmax_attention(q, k, v, **kw)
            grads = torch.autograd.grad(out, (q, k, v), do)
            got = (out,) + grads
            leaves64 = [t.detach().double().requires_grad_() for t in (q, k, v)]
            o64 = reference.entmax_attention(*leaves64, alpha=1.5, **kw)
            want = (o64,) + torch.autograd.grad(o64, leaves64, do.double())
            leavesl = [t.detach().clone().requires_grad_() for t in (q, k, v)]
            ol = reference.entmax_attention(*leavesl, alpha=1.5, **kw)
            plain = (ol,) + torch.autograd.grad(ol, leavesl, do)
            bad = []
            for name, a, w, b in zip(("out", "dq", "dk", "dv"), got, want, plain):
                err = (a.double() - w).abs().max().item()
                base = (b.double() - w).abs().max().item()
                floor = 2e-5 if dt == torch.float32 else 1e-3
                if not (err <= 3.0 * base + floor):
                    bad.append(f"{name} err {err:.3g} > 3 x {base:.3g} + {floor:g}")
            print(f"[launch] round {rnd} {c['layout']:10s} {str(dt)[6:]:8s} H{H}/{Hk} L{L} D{D} causal={c['causal']} "
                  f"mask={c['mask']}: {'; '.join(bad) if bad else 'ok'}", flush=True)
            ok &= not bad
    n_handles = sum(len(lau._handles) for lau in launch._launchers.values())
    n_direct = sum(e.direct_ok for lau in launch._launchers.values() for e in lau._handles.values())
    print(f"[launch] cached compiled-kernel handles: {n_handles} over {len(launch._launchers)} kernels, "
          f"{n_direct} launched straight through the C launcher (launch.DIRECT)", flush=True)
    if dev == "cuda" and launch.DIRECT and n_direct == 0:
        print("[launch] no handle launched directly: the direct path fell back to the runner", flush=True)
    if dev == "cuda" and n_handles == 0:
        print("[launch] no launch went through a cached handle: the direct path was not exercised", flush=True)
        ok = False
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
        with deterministic_mode():
            grads = torch.autograd.grad(out, (qq, kk, vv, aa), do)
        if first is None:
            first = grads
            continue
        for name, a, b in zip(("dq", "dk", "dv", "dalpha"), first, grads):
            if not torch.equal(a, b):
                print(f"[determinism] run {i}: {name} differs (max {(a.float() - b.float()).abs().max().item():.3e})")
                return False
    print(f"[determinism] {n} backward passes in deterministic mode bitwise equal (dq, dk, dv, dα)", flush=True)
    return True


def forward_determinism(n: int, N: int = 16384, dev="cuda") -> bool:
    """The forward at N keys ('rand', where rows go to the fix-up launch) n times: bitwise equal
    outputs and τ; and against refinement in the tile (no fix-up launch): the same τ up to
    rounding and the same outputs up to bf16 rounding."""
    from adasplash_compile.kernels import attention

    g = torch.Generator(device=dev).manual_seed(1)
    q, k, v = attention_inputs("rand", 2, 16, N, 128, dtype=torch.bfloat16, device=dev, generator=g)
    scale = 128 ** -0.5
    first = None
    for i in range(n):
        out, tau, _ = attention.forward(q, k, v, None, True, scale, 1.5, None, False)
        if first is None:
            first = (out, tau)
            continue
        if not (torch.equal(out, first[0]) and torch.equal(tau, first[1])):
            lq = q.shape[2]
            rows_tau = int((tau != first[1]).sum())
            rows_out = int((out != first[0]).any(-1).sum())
            print(f"[fwd-determinism] run {i}: τ differs in {rows_tau} of {tau.numel()} rows, the output in "
                  f"{rows_out} (N={lq})", flush=True)
            return False
    attention.SUBSET_FIXUP = False
    try:
        out0, tau0, _ = attention.forward(q, k, v, None, True, scale, 1.5, None, False)
    finally:
        attention.SUBSET_FIXUP = True
    dt = (tau0 - first[1]).abs().max().item()
    do = (out0.float() - first[0].float()).abs().max().item()
    ok = dt <= 1e-5 and do <= 2e-2
    print(f"[fwd-determinism] {n} forwards at N={N} bitwise equal; against refinement in the tile: "
          f"max |Δτ| {dt:.2e}, max |Δout| {do:.2e}: {'ok' if ok else 'DIFFERENT'}", flush=True)
    return ok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--small", action="store_true")
    ap.add_argument("--default-config-only", action="store_true",
                    help="--small with the default forward config only (fewer kernels to compile)")
    ap.add_argument("--fixup-only", action="store_true",
                    help="--small with the fix-up and gather variants only (memcheck)")
    ap.add_argument("--determinism", type=int, default=0)
    ap.add_argument("--launch", action="store_true", help="results through cached kernel handles (launch.py)")
    ap.add_argument("--fwd-determinism", type=int, default=0, help="forwards at 16k 'rand' compared bitwise")
    ap.add_argument("--launch-rounds", type=int, default=3, help="--launch: rounds over the cases (≥ 2 uses the handles)")
    ap.add_argument("--device", default="cuda", help="cpu: the same runs through TRITON_INTERPRET=1 (script check)")
    args = ap.parse_args()
    ok = True
    if args.small:
        ok &= small(args.device, not args.default_config_only, args.fixup_only)
    if args.launch:
        ok &= launches(args.device, rounds=args.launch_rounds if args.device == "cuda" else 1)
    if args.determinism:
        ok &= determinism(args.determinism, args.device)
    if args.fwd_determinism:
        ok &= forward_determinism(args.fwd_determinism, dev=args.device)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
