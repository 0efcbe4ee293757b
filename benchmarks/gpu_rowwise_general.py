"""Row-wise entmax on the GPU: the subset ("top") kernel against the histogram kernel for general α
(exp2/log2 per entry), α = 2 at 4 and 8 warps, and the backward's 8-warp config at 4096, beside
torch.softmax in one process (session 3, call F).

    bash scripts/gpu_run.sh python3 benchmarks/gpu_rowwise_general.py
"""

from __future__ import annotations

import json
import os
import sys

import torch
import triton

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from adasplash_compile import reference  # noqa: E402
from adasplash_compile.kernels import rowwise  # noqa: E402
from benchmarks.gpu_rowwise import _bench, _warm_gpu  # noqa: E402


def main() -> None:
    torch.manual_seed(0)
    _warm_gpu()
    out = []
    for rows, n in ((4096, 4096), (1024, 32768)):
        x = torch.randn(rows, n, device="cuda")
        t_sm = _bench(lambda: torch.softmax(x, -1))
        print(f"[general] {rows}x{n} softmax {t_sm:.4f}", flush=True)
        cases = [(1.25, {}), (1.25, {"bracket": "top"}), (1.75, {}), (1.75, {"bracket": "top"}),
                 (2.5, {}), (2.5, {"bracket": "top"}), (2.0, {}), (2.0, {"num_warps": 8})]
        for alpha, kw in cases:
            ref = reference.entmax(x.double(), alpha)
            p, iters = rowwise.entmax_forward_with_stats(x, alpha, **kw)
            sub = rowwise.last_subset_evaluations().float().mean().item()
            err = ((p.double() - ref).norm() / ref.norm()).item()
            rs = (p.double().sum(-1) - 1).abs().max().item()
            ms = _bench(lambda: rowwise.entmax_forward(x, alpha, **kw))
            rec = dict(shape=f"{rows}x{n}", alpha=alpha, kw=kw, ms=ms, pct_softmax=100 * t_sm / ms, rel_err=err,
                       max_row_sum_err=rs, full_evals=iters.float().mean().item(), subset_evals=sub)
            out.append(rec)
            print(f"[general] {rows}x{n} alpha={alpha} {kw} {ms:.4f} ms {100 * t_sm / ms:.0f}% err {err:.1e} "
                  f"rowsum {rs:.1e} full {rec['full_evals']:.2f} sub {sub:.2f}", flush=True)
        g = torch.randn_like(x)
        p = rowwise.entmax_forward(x, 1.5)
        t_b = _bench(lambda: rowwise.entmax_backward(g, p, 1.5))
        t_sb = _bench(lambda: torch._softmax_backward_data(g, p, -1, x.dtype))
        print(f"[general] {rows}x{n} backward {t_b:.4f} ms (softmax backward {t_sb:.4f})", flush=True)
        out.append(dict(shape=f"{rows}x{n}", backward_ms=t_b, softmax_backward_ms=t_sb, softmax_ms=t_sm))
    res = dict(command="bash scripts/gpu_run.sh python3 benchmarks/gpu_rowwise_general.py", gpu=torch.cuda.get_device_name(),
               torch=torch.__version__, triton=triton.__version__, results=out)
    path = os.path.join(os.environ.get("OUT", "benchmarks/results"), "rowwise_general.json")
    with open(path, "w") as f:
        json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
