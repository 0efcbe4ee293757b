"""H200 probe (session 11): what grouping the listed pairs by key costs, piece by piece, at 16k 'rand'
(bf16 B=2 H=16 D=128 causal): the backward's grouping as it is (``listed_offsets`` and
``listed_pairs``; call A ran session 10's ``pairs_by_key`` here, 1.69 ms), and the torch pieces a
grouping can use (a stable sort of int16 / int32 keys, a cumsum of the counts, a nonzero).

    SAVE_CACHE=0 bash scripts/gpu_run.sh python3 benchmarks/gpu_sort_probe.py
"""

import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from adasplash_compile.kernels import attention, attention_bwd  # noqa: E402
from benchmarks.inputs import attention_inputs  # noqa: E402


def bench(fn):
    from triton.testing import do_bench

    return do_bench(fn, warmup=5, rep=100, return_mode="median")


def main():
    B, H, N, D = 2, 16, 16384, 128
    g = torch.Generator(device="cuda").manual_seed(0)
    q, k, v = attention_inputs("rand", B, H, N, D, dtype=torch.bfloat16, device="cuda", generator=g)
    out, tau, o2, tiles, lists, counts = attention.forward(q, k, v, None, True, D ** -0.5, 1.5, None, True,
                                                           return_tiles=True, return_lists=True)
    P = int(counts.sum())
    print(f"lists {tuple(lists.shape)} {lists.dtype}, pairs {P}, rows listed {(counts > 0).float().mean():.4f}")
    cap = lists.shape[-1]
    mod = attention_bwd._kernels(q, v, "15", "none", True, False, False, True, False, True)
    group = lambda: attention_bwd.listed_pairs(  # noqa: E731
        mod, lists, counts, attention_bwd.listed_offsets(counts, cap), H, N, attention_bwd.LISTED_BLOCK_N)
    print(f"grouping (now): {bench(group):.3f} ms")
    filled = torch.arange(cap, device="cuda", dtype=torch.int32) < counts.view(-1, 1)
    print(f"nonzero over the slots: {bench(lambda: filled.view(-1).nonzero()):.3f} ms")
    print(f"cumsum of the counts: {bench(lambda: torch.cumsum(counts.view(-1), 0, dtype=torch.int32)):.3f} ms")
    for bn in (16, 32, 64):
        n_bins = B * H * N // bn
        bins = torch.randint(0, n_bins, (P,), device="cuda", dtype=torch.int32).sort().values  # like row-major pairs: not sorted by bin
        bins = bins[torch.randperm(P, device="cuda")]
        for dt in (torch.int16, torch.int32):
            if dt == torch.int16 and n_bins > 65535:
                continue
            x = (bins - (32768 if dt == torch.int16 else 0)).to(dt)
            ms = bench(lambda: torch.sort(x, stable=True))
            sx = torch.sort(x, stable=True).values
            grid = (torch.arange(n_bins + 1, device="cuda", dtype=torch.int32) - (32768 if dt == torch.int16 else 0)).to(dt)
            ss = bench(lambda: torch.searchsorted(sx, grid))
            print(f"BN {bn}: {n_bins} bins, stable sort of {P} {dt}: {ms:.3f} ms; searchsorted {ss:.3f} ms")
    x = torch.randint(0, 2**30, (P,), device="cuda", dtype=torch.int32)
    print(f"gather of {P} int32 by an int64 order: {bench(lambda: x[torch.sort(x).indices]) - bench(lambda: torch.sort(x)):.3f} ms")


if __name__ == "__main__":
    main()
