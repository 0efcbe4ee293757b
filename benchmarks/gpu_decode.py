"""H200 probe: decode steps (a few query rows against a long KV cache), ``entmax_attention`` against
SDPA, inference, bf16, D=128, not causal, α = 1.5, keys and queries iid normal.

Per point: do_bench's median (ms), and the time of one call from an idle stream (CUDA events,
host time before the first kernel included; median of ``--idle-reps``), as a decoding loop that
waits on each step sees it. Also the largest error against the float64 reference beside plain
bf16 PyTorch's (FlashAttention's rule), and with ``--variants`` the same for ``attention`` module
knobs (e.g. ``DECODE_MAX_LQ=0`` for the fused kernel instead of the decode path).

    SAVE_CACHE=0 bash scripts/gpu_run.sh python3 benchmarks/gpu_decode.py --out $OUT
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
from adasplash_compile.kernels import attention  # noqa: E402


def idle_ms(fn, reps: int) -> float:
    """Median ms of one call timed from an idle stream (the host's time to the first kernel counts)."""
    times = []
    for _ in range(reps):
        torch.cuda.synchronize()
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        fn()
        b.record()
        b.synchronize()
        times.append(a.elapsed_time(b))
    return statistics.median(times)


def max_err(q, k, v, out, gqa: bool) -> tuple[float, float]:
    """(ours, plain bf16) max abs error against float64, on the first batch entry."""
    q64, k64, v64 = (t[:1].double() for t in (q, k, v))
    ref = reference.entmax_attention(q64, k64, v64, enable_gqa=gqa, alpha=1.5)
    plain = reference.entmax_attention(q[:1], k[:1], v[:1], enable_gqa=gqa, alpha=1.5)
    return (float((out[:1].double() - ref).abs().max()), float((plain.double() - ref).abs().max()))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.environ.get("OUT", "."))
    ap.add_argument("--lengths", default="4096,16384,32768,131072")
    ap.add_argument("--shapes", default="2x16x16x1,8x32x8x1,8x32x8x4",
                    help="comma-separated BxHxHkxLq")
    ap.add_argument("--variants", default="", help="';'-separated 'NAME=int,...' knob sets for ours")
    ap.add_argument("--idle-reps", type=int, default=50)
    ap.add_argument("--accuracy-max-lk", type=int, default=32768)
    a = ap.parse_args()
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
                saved = {n: getattr(attention, n) for n in knobs}
                for n, val in knobs.items():
                    setattr(attention, n, val)
                try:
                    ours = lambda: entmax_attention(q, k, v, enable_gqa=gqa, alpha=1.5)  # noqa: E731
                    with torch.no_grad():
                        out = ours()
                        tag = variant or "default"
                        row[f"ours[{tag}]_ms"] = do_bench(ours, warmup=25, rep=200)
                        row[f"ours[{tag}]_idle_ms"] = idle_ms(ours, a.idle_reps)
                        if Lk <= a.accuracy_max_lk:
                            row[f"ours[{tag}]_err"], row["plain_bf16_err"] = max_err(q, k, v, out, gqa)
                finally:
                    for n, val in saved.items():
                        setattr(attention, n, val)
            rows.append(row)
            print("[decode] " + " ".join(f"{key}={val:.4g}" if isinstance(val, float) else f"{key}={val}"
                                         for key, val in row.items()), flush=True)
    with open(os.path.join(a.out, "decode.json"), "w") as f:
        json.dump(dict(torch=torch.__version__, device=torch.cuda.get_device_name(), rows=rows), f, indent=1)


if __name__ == "__main__":
    main()
