"""H200 (session 33): which rows the fix-up launches still get with GATHER_SCAN, and why. One
inference forward per point ('rand' / 'local', bf16 B=2 H=16 D=128 causal α = 1.5); the fix-up
buffers are read back: the rows listed for the fix-up beside the gather launch ("early") and for
the late one after it (lists that overflowed once scanned). For a sample of those rows, in float64
from the same bf16 inputs: whether the row's top-4-per-position candidates certify it, how many
score positions hold all four candidates above the candidates' root (n_f: the scan takes ≤ 3), and
the list the scan would build (candidates above the root elsewhere, every key above it at those
positions) against GATHER_SCAN_CAP.

    SAVE_CACHE=0 bash scripts/gpu_run.sh python3 benchmarks/gpu_scan_rows.py --points 16384:rand,32768:rand
"""

from __future__ import annotations

import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from adasplash_compile import entmax_attention  # noqa: E402
from adasplash_compile.kernels import attention  # noqa: E402
from benchmarks.gpu_listed_bwd import _inputs  # noqa: E402


def root15(x: torch.Tensor) -> torch.Tensor:
    """Exact α = 1.5 threshold of each row of x (x = (α−1)·z; −inf allowed), float64."""
    xs, _ = x.sort(dim=1, descending=True)
    k = torch.arange(1, x.shape[1] + 1, dtype=x.dtype, device=x.device)
    c1, c2 = xs.cumsum(1), (xs * xs).cumsum(1)
    t = (c1 - (c1 * c1 - k * (c2 - 1)).clamp(min=0).sqrt()) / k
    kk = ((xs > t) & torch.isfinite(xs)).sum(1) - 1
    return t.gather(1, kk[:, None]).squeeze(1)


def explain(q, k, rows_bh, rows_m, cap, topk=4, bn=64):
    """Per row (head index into B·H, query row): certified by the candidates, n_f, scan list size."""
    B, H, N, D = q.shape
    qq = q.reshape(B * H, N, D)[rows_bh, rows_m].double()
    kk = k.reshape(B * H, N, D)[rows_bh].double()
    x = 0.5 * torch.einsum("rd,rnd->rn", qq, kk) / D ** 0.5
    x = torch.where(torch.arange(N, device=x.device)[None, :] <= rows_m[:, None], x, float("-inf"))
    R = x.shape[0]
    tiles = -(-N // bn)
    xr = torch.nn.functional.pad(x, (0, tiles * bn - N), value=float("-inf")).view(R, tiles, bn)
    srt, _ = xr.sort(dim=1, descending=True)
    cand = srt[:, :topk]
    evicted = srt[:, topk:].amax(dim=(1, 2)) if tiles > topk else torch.full((R,), float("-inf"), device=x.device)
    t_sub = root15(cand.reshape(R, -1))
    flag = cand[:, -1] > t_sub[:, None]
    n_f = flag.sum(1)
    n_list = ((cand > t_sub[:, None, None]) & ~flag[:, None]).sum((1, 2)) + ((xr > t_sub[:, None, None]) & flag[:, None]).sum((1, 2))
    cert = evicted <= t_sub
    return cert, n_f, n_list


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--points", default="16384:rand,32768:rand")
    ap.add_argument("--sample", type=int, default=256)
    ap.add_argument("--cap", type=int, default=0, help="attention.GATHER_SCAN_CAP (0: the default)")
    a = ap.parse_args()
    if a.cap:
        attention.GATHER_SCAN_CAP = a.cap
    fixes = []
    real = attention._fix_buffers

    def spy(*args):
        fixes.append(real(*args))
        return fixes[-1]

    attention._fix_buffers = spy
    attention.REPLAY = False
    for point in a.points.split(","):
        n, kind = point.split(":")
        N = int(n)
        q, k, v, _ = _inputs(kind, 2, 16, N, 128)
        for scan in (False, True):
            attention.GATHER_SCAN = scan
            fixes.clear()
            with torch.no_grad():
                entmax_attention(q, k, v, is_causal=True)
            torch.cuda.synchronize()
            for name, (cnt, rows) in zip(("early", "late"), fixes):
                total = int(cnt.sum())
                print(f"[rows] N={N} {kind} scan={int(scan)} {name}: {total} rows "
                      f"({total / (2 * 16 * N):.5f} of all); heads with rows {int((cnt > 0).sum())}", flush=True)
                if total == 0 or not scan:
                    continue
                bh = torch.repeat_interleave(torch.arange(cnt.numel(), device=cnt.device), cnt.long())
                start = torch.arange(cnt.numel(), device=cnt.device) * N
                idx = torch.cat([torch.arange(int(c), device=cnt.device) + int(s) for c, s in zip(cnt, start) if c > 0])
                m = rows[idx].long()
                pick = torch.randperm(m.numel(), device=m.device)[: a.sample]
                cert, n_f, n_list = explain(q, k, bh[pick], m[pick], attention.GATHER_SCAN_CAP)
                hist = torch.bincount(n_f.clamp(max=8), minlength=9).tolist()
                print(f"[rows]   sample {pick.numel()}: certified in float64 {int(cert.sum())}; n_f 0..8+ {hist}; "
                      f"scan list > cap {int((n_list > attention.GATHER_SCAN_CAP).sum())}; list size max "
                      f"{int(n_list.max())}; rows' positions in their head min {int(m.min())}", flush=True)


if __name__ == "__main__":
    main()
