"""H200 probe: decode steps (a few query rows against a long KV cache), ``entmax_attention`` against
SDPA, inference, bf16, D=128, not causal, α = 1.5, keys and queries iid normal.

Per point: do_bench's median (ms), and the time of one call from an idle stream (CUDA events,
host time before the first kernel included; median of ``--idle-reps``), as a decoding loop that
waits on each step sees it. Also the largest error against the float64 reference beside plain
bf16 PyTorch's (FlashAttention's rule), and with ``--variants`` the same for knobs of
``kernels/decode.py`` or ``kernels/attention.py`` (``MAX_ROWS=0``: the fused kernel instead of the
decode path). ``--check`` instead runs the decode path over masks, α kinds, dtypes, GQA and
awkward lengths against float64 (the FA rule), and its results against the fused kernel's.

    SAVE_CACHE=0 bash scripts/gpu_run.sh python3 benchmarks/gpu_decode.py --out $OUT
    SAVE_CACHE=0 bash scripts/gpu_run.sh python3 benchmarks/gpu_decode.py --check
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from adasplash_compile import entmax_attention, reference  # noqa: E402
from adasplash_compile.kernels import decode  # noqa: E402
from benchmarks.gpu_concurrency import capture  # noqa: E402
from benchmarks.gpu_host_profile import idle_ms  # noqa: E402
from benchmarks.gpu_timeline import _knob_module  # noqa: E402


def growing_ms(fn, q, k, v, steps: int = 16) -> tuple[float, float]:
    """Median idle-stream ms of ``steps`` decode steps, each against one more key: views of one
    preallocated cache (fixed strides, as a static cache gives) and separate contiguous tensors
    (new strides every step, as a cache grown by concatenation gives). The first step is left out."""
    B, Hk, Lk, D = k.shape
    kf = torch.cat([k, k[:, :, :steps]], dim=2)
    vf = torch.cat([v, v[:, :, :steps]], dim=2)
    res = []
    for views in (True, False):
        kv = [(kf[:, :, :Lk + i], vf[:, :, :Lk + i]) if views else
              (kf[:, :, :Lk + i].contiguous(), vf[:, :, :Lk + i].contiguous()) for i in range(steps)]
        times = [idle_ms(lambda: fn(q, kk, vv), 1) for kk, vv in kv]
        res.append(statistics.median(times[1:]))
        del kv
    return res[0], res[1]


def max_err(q, k, v, out, gqa: bool) -> tuple[float, float]:
    """(ours, plain bf16) max abs error against float64, on the first batch entry."""
    q64, k64, v64 = (t[:1].double() for t in (q, k, v))
    ref = reference.entmax_attention(q64, k64, v64, enable_gqa=gqa, alpha=1.5)
    plain = reference.entmax_attention(q[:1], k[:1], v[:1], enable_gqa=gqa, alpha=1.5)
    return (float((out[:1].double() - ref).abs().max()), float((plain.double() - ref).abs().max()))


def check(lengths=(1024, 1500, 5000, 40000)) -> bool:
    """The decode path against float64 (FA rule: ≤ 3x plain PyTorch's error in the same dtype) and
    τ against the fused kernel's, over masks, α kinds, dtypes, GQA, Lq 1-4 and awkward lengths."""
    from adasplash_compile.kernels.attention import forward

    g = torch.Generator(device="cuda").manual_seed(1)
    decode.MIN_LK = 0  # the decode path at every length checked
    ok = True
    shapes = [dict(B=2, H=16, Hk=16, Lq=1, D=128, Dv=128, dtype=torch.bfloat16, alpha=1.5, mask=None),
              dict(B=3, H=32, Hk=8, Lq=2, D=128, Dv=128, dtype=torch.bfloat16, alpha=2.0, mask="keypad"),
              dict(B=1, H=8, Hk=2, Lq=4, D=80, Dv=48, dtype=torch.float16, alpha=1.3, mask="float"),
              dict(B=2, H=4, Hk=4, Lq=3, D=64, Dv=64, dtype=torch.float32, alpha="per-head", mask="full"),
              dict(B=1, H=4, Hk=1, Lq=1, D=256, Dv=256, dtype=torch.bfloat16, alpha=2.5, mask=None)]
    cases = [dict(shape, Lk=Lk) for Lk in lengths for shape in shapes]
    for c in cases:
        B, H, Hk, Lq, Lk, dt = c["B"], c["H"], c["Hk"], c["Lq"], c["Lk"], c["dtype"]
        q = torch.randn(B, H, Lq, c["D"], device="cuda", generator=g).to(dt)
        k = torch.randn(B, Hk, Lk, c["D"], device="cuda", generator=g).to(dt)
        v = torch.randn(B, Hk, Lk, c["Dv"], device="cuda", generator=g).to(dt)
        mask = None
        if c["mask"] == "keypad":
            mask = torch.rand(B, 1, 1, Lk, device="cuda", generator=g) > 0.3
            mask[0] = False  # batch 0 has nothing to attend
        elif c["mask"] == "float":
            mask = torch.randn(Lq, Lk, device="cuda", generator=g).to(dt)
        elif c["mask"] == "full":
            mask = torch.rand(B, H, Lq, Lk, device="cuda", generator=g) > 0.5
        alpha_t = torch.linspace(1.25, 2.5, H, device="cuda") if c["alpha"] == "per-head" else None
        alpha = 1.5 if alpha_t is not None else c["alpha"]
        scale = c["D"] ** -0.5
        assert decode.applies(q, k, False)
        out, tau, _ = forward(q, k, v, mask, False, scale, alpha, alpha_t, False)
        rows, decode.MAX_ROWS = decode.MAX_ROWS, 0
        try:
            out_f, tau_f, _ = forward(q, k, v, mask, False, scale, alpha, alpha_t, False)
        finally:
            decode.MAX_ROWS = rows
        a64 = alpha_t.double() if alpha_t is not None else alpha
        m64 = mask.double() if mask is not None and mask.is_floating_point() else mask
        ref = reference.entmax_attention(q.double(), k.double(), v.double(), m64, enable_gqa=Hk != H, alpha=a64)
        plain = reference.entmax_attention(q, k, v, mask, enable_gqa=Hk != H, alpha=alpha_t if alpha_t is not None else alpha)
        err = float((out.double() - ref).abs().max())
        base = float((plain.double() - ref).abs().max())
        fused = float((out_f.double() - ref).abs().max())
        fin = torch.isfinite(tau_f)
        tau_ok = torch.equal(fin, torch.isfinite(tau)) and not torch.isnan(tau).any()
        tau_diff = float((tau[fin] - tau_f[fin]).abs().max()) if fin.any() else 0.0
        floor = 2e-5 if dt == torch.float32 else 1e-3
        good = err <= 3 * base + floor and tau_ok and tau_diff <= (1e-4 if dt == torch.float32 else 2e-2)
        ok &= good
        print(f"[check] {'ok ' if good else 'BAD'} B={B} H={H} Hk={Hk} Lq={Lq} Lk={Lk} D={c['D']} Dv={c['Dv']} "
              f"{str(dt)[6:]} alpha={c['alpha']} mask={c['mask']}: err {err:.3g} (plain {base:.3g}, fused {fused:.3g}) "
              f"tau vs fused {tau_diff:.3g}", flush=True)
    return ok


def graphs(shapes, lengths) -> bool:
    """Decode steps captured in a CUDA graph (how a serving loop removes host time): the replay's
    output bitwise equal to the eager call's, and its do_bench time, ours against SDPA's."""
    from triton.testing import do_bench

    ok = True
    g = torch.Generator(device="cuda").manual_seed(2)
    for shape in shapes.split(","):
        B, H, Hk, Lq = (int(x) for x in shape.split("x"))
        for Lk in lengths:
            q = torch.randn(B, H, Lq, 128, device="cuda", generator=g).bfloat16()
            k = torch.randn(B, Hk, Lk, 128, device="cuda", generator=g).bfloat16()
            v = torch.randn(B, Hk, Lk, 128, device="cuda", generator=g).bfloat16()
            gqa = Hk != H
            line = [f"B={B} H={H} Hk={Hk} Lq={Lq} Lk={Lk}"]
            for name, fn in (("ours", lambda: entmax_attention(q, k, v, enable_gqa=gqa, alpha=1.5)),
                             ("sdpa", lambda: F.scaled_dot_product_attention(q, k, v, enable_gqa=gqa))):
                with torch.no_grad():
                    eager = fn()
                    graph, static_out = capture(fn)
                    graph.replay()
                    torch.cuda.synchronize()
                    same = torch.equal(static_out, eager)
                    ok &= same or name != "ours"
                    line.append(f"{name}: graph {do_bench(graph.replay, warmup=25, rep=200):.4f} ms "
                                f"eager {do_bench(fn, warmup=25, rep=200):.4f} ms replay==eager {same}")
                    del graph, static_out
            print("[graphs] " + " | ".join(line), flush=True)
    return ok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--graphs", action="store_true", help="decode steps under CUDA-graph replay")
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--check-lengths", default="1024,1500,5000,40000")
    ap.add_argument("--out", default=os.environ.get("OUT", "."))
    ap.add_argument("--lengths", default="1024,4096,16384,32768,131072")
    ap.add_argument("--shapes", default="2x16x16x1,8x32x8x1,8x32x8x4",
                    help="comma-separated BxHxHkxLq")
    ap.add_argument("--variants", default="", help="';'-separated 'NAME=int,...' knob sets for ours")
    ap.add_argument("--idle-reps", type=int, default=50)
    ap.add_argument("--accuracy-max-lk", type=int, default=32768)
    ap.add_argument("--growing-lk", type=int, default=32768,
                    help="at this length, also steps against a cache growing by one key (growing_ms)")
    a = ap.parse_args()
    if a.check:
        sys.exit(0 if check(tuple(int(x) for x in a.check_lengths.split(","))) else 1)
    if a.graphs:
        sys.exit(0 if graphs(a.shapes, tuple(int(x) for x in a.lengths.split(","))) else 1)
    from triton.testing import do_bench

    rows = []
    g = torch.Generator(device="cuda").manual_seed(0)
    variants = [""] + [v for v in a.variants.split(";") if v]
    for shape in a.shapes.split(","):
        B, H, Hk, Lq = (int(x) for x in shape.split("x"))
        for Lk in (int(x) for x in a.lengths.split(",")):
            q = torch.randn(B, H, Lq, 128, device="cuda", generator=g).bfloat16()
            k = torch.randn(B, Hk, Lk, 128, device="cuda", generator=g).bfloat16()
            v = torch.randn(B, Hk, Lk, 128, device="cuda", generator=g).bfloat16()
            gqa = Hk != H
            sdpa = lambda: F.scaled_dot_product_attention(q, k, v, enable_gqa=gqa)  # noqa: E731
            row = dict(B=B, H=H, Hk=Hk, Lq=Lq, Lk=Lk, sdpa_ms=do_bench(sdpa, warmup=25, rep=200),
                       sdpa_idle_ms=idle_ms(sdpa, a.idle_reps))
            for variant in variants:
                knobs = dict((kv.split("=")[0], int(kv.split("=")[1])) for kv in variant.split(",") if kv)
                saved = {n: getattr(_knob_module(n), n) for n in knobs}
                for n, val in knobs.items():
                    setattr(_knob_module(n), n, val)
                try:
                    ours = lambda: entmax_attention(q, k, v, enable_gqa=gqa, alpha=1.5)  # noqa: E731
                    with torch.no_grad():
                        out = ours()
                        tag = variant or "default"
                        row[f"ours[{tag}]_ms"] = do_bench(ours, warmup=25, rep=200)
                        row[f"ours[{tag}]_idle_ms"] = idle_ms(ours, a.idle_reps)
                        if Lk == a.growing_lk:
                            row[f"ours[{tag}]_grow_static_ms"], row[f"ours[{tag}]_grow_dynamic_ms"] = growing_ms(
                                lambda q_, k_, v_: entmax_attention(q_, k_, v_, enable_gqa=gqa, alpha=1.5), q, k, v)
                        if Lk <= a.accuracy_max_lk:
                            row[f"ours[{tag}]_err"], row["plain_bf16_err"] = max_err(q, k, v, out, gqa)
                finally:
                    for n, val in saved.items():
                        setattr(_knob_module(n), n, val)
            rows.append(row)
            print("[decode] " + " ".join(f"{key}={val:.4g}" if isinstance(val, float) else f"{key}={val}"
                                         for key, val in row.items()), flush=True)
    with open(os.path.join(a.out, "decode.json"), "w") as f:
        json.dump(dict(torch=torch.__version__, device=torch.cuda.get_device_name(), rows=rows), f, indent=1)


if __name__ == "__main__":
    main()
