"""Which 64-row programs GATHER's dense probe picks, in a float64 model (CPU, no GPU).

    python scripts/sim_gather_probe.py            # 4k, 8k, 16k; 'local' and 'rand'; programs from the 8th
    python scripts/sim_gather_probe.py --early --n 8192 --kinds local   # the first programs too

The benchmark inputs (``benchmarks.inputs``, bf16 q / k taken to float64, D = 128, 2 heads), α =
1.5, causal. A program's m starts as its diagonal tile's row max and is updated per probe tile. A
tile is "near" when some row has a key within 1 of m, and "dense" when at least half of the rows
do (GATHER_DENSE_FRAC). The program is called dense when both probe tiles are both. The model
probes the two tiles next to the diagonal, as the kernel does, and also two mid-row tiles.
Session 28's write-up (benchmarks/results/cpu-2026-12-02-session28-ptxas.md) has its output.
"""

from __future__ import annotations

import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from benchmarks.inputs import attention_inputs  # noqa: E402

BM = BN = 64


def called_dense(x: torch.Tensor, pid_m: int, tiles: list[int]) -> bool:
    """``x``: the program's rows against keys [0, (pid_m + 1)·BN), causal −inf applied."""
    m = x[:, pid_m * BN:(pid_m + 1) * BN].max(1).values
    n_near = n_dense = 0
    for jb in tiles:
        row_max = x[:, jb * BN:(jb + 1) * BN].max(1).values
        m = torch.maximum(m, row_max)
        near = row_max >= m - 1.0
        n_near += int(near.any())
        n_dense += int(near.double().sum() >= 0.5 * x.shape[0])
    return n_near == len(tiles) and n_dense == len(tiles)


def main(argv: list[str]) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, nargs="+", default=[4096, 8192, 16384])
    ap.add_argument("--kinds", nargs="+", default=["local", "rand"])
    ap.add_argument("--early", action="store_true", help="also programs 2-11 (rows by the start)")
    a = ap.parse_args(argv)
    for n in a.n:
        for kind in a.kinds:
            g = torch.Generator().manual_seed(1)
            q, k, _ = attention_inputs(kind, 1, 2, n, 128, dtype=torch.bfloat16, device="cpu", generator=g)
            q, k = q.double(), k.double()
            n_prog = n // BM
            pids = (list(range(2, 12)) + list(range(12, n_prog, max(1, n_prog // 24))) if a.early
                    else list(range(8, n_prog, max(1, n_prog // 48))))
            adjacent = mid = 0
            for h in range(2):
                for pid_m in pids:
                    rows = torch.arange(pid_m * BM, (pid_m + 1) * BM)
                    z = q[0, h, rows] @ k[0, h, :(pid_m + 1) * BN].T * 128 ** -0.5
                    x = 0.5 * z.masked_fill(torch.arange((pid_m + 1) * BN)[None, :] > rows[:, None], float("-inf"))
                    adjacent += called_dense(x, pid_m, [pid_m - 1, pid_m - 2])
                    mid += called_dense(x, pid_m, [pid_m // 2, pid_m // 2 - 1])
            total = 2 * len(pids)
            print(f"N={n:6d} {kind:5s}: programs called dense, adjacent probe {adjacent}/{total}, "
                  f"mid-row probe {mid}/{total}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
