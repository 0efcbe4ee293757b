"""How often the τ solve could skip a candidate level, in a float64 model (CPU, no GPU).

    python scripts/sim_solve_levels.py

The 4k benchmark inputs (``benchmarks.inputs``, bf16 q / k taken to float64, D = 128, 4 heads),
α = 1.5, causal. Each row keeps the top 4 x of every score position (key mod 64), as sweep 1's
candidates do. For rows from 512 on, the script prints the share of 64-row programs, and of
rows, where some level-k candidate (k = 0..3) lies above t. It uses t = τ and two values below
τ, since the solve's t approaches τ from below. A program can skip level k in its solve steps
only when no row has one above t. Session 28's write-up has its output.
"""

from __future__ import annotations

import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from adasplash_compile import reference  # noqa: E402
from benchmarks.inputs import attention_inputs  # noqa: E402

N, D, H, BM, BN, TOPK = 4096, 128, 4, 64, 64, 4


def main() -> None:
    for kind in ("rand", "local"):
        g = torch.Generator().manual_seed(0)
        q, k, _ = attention_inputs(kind, 1, H, N, D, dtype=torch.bfloat16, device="cpu", generator=g)
        q, k = q.double(), k.double()
        x = 0.5 * (q @ k.transpose(-1, -2) * D ** -0.5).masked_fill(
            torch.ones(N, N, dtype=torch.bool).triu(1), float("-inf"))
        tau, _ = reference.entmax_attention_stats(q, k, k, None, True, alpha=1.5)
        top = x.reshape(1, H, N, N // BN, BN).topk(TOPK, dim=3).values  # (1, H, N, TOPK, BN)
        for slack in (0.0, 0.02, 0.1):
            above = (top > (tau - slack)[..., None, None]).any(-1)  # (1, H, N, TOPK): row has level k above t
            prog = above.reshape(1, H, N // BM, BM, TOPK).any(3)[:, :, 512 // BM:]
            rows = above[:, :, 512:]
            print(f"{kind:5s} t = τ − {slack}: programs with level k above t, k = 0..{TOPK - 1}: "
                  f"{[round(prog[..., i].double().mean().item(), 3) for i in range(TOPK)]}, rows: "
                  f"{[round(rows[..., i].double().mean().item(), 3) for i in range(TOPK)]}", flush=True)


if __name__ == "__main__":
    main()
