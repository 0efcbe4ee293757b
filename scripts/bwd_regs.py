"""Registers and spills of the backward's kernels for sm_90, per config, compiled on the CPU.

    .venv-triton36/bin/python scripts/bwd_regs.py 64,128,64,64,8,2 128,64,128,64,8,2
    .venv-triton36/bin/python scripts/bwd_regs.py --where 64,128,64,64,8,2   # + where the spills are

Each argument is a backward config (``attention_bwd.Config``: BLOCK_M1, BLOCK_N1, BLOCK_M2,
BLOCK_N2, warps, stages). The launcher runs on CPU tensors (bf16, D=128, α = 1.5, causal, with
the forward's tile map, the fused dQ unless ``--passes``) with its kernels captured instead of
launched (as ``tests/kernels/test_gpu_frontend.py`` does); each captured kernel is compiled to
PTX for sm_90a, specialised as a GPU launch is, and the ptxas bundled with Triton reports its
registers and spill bytes. Run it with a Triton 3.6 environment (``.ci/run`` builds
``.venv-triton36``) for the H200 image's compiler.
"""

from __future__ import annotations

import argparse
import os
import sys

os.environ.pop("TRITON_INTERPRET", None)

import torch  # noqa: E402
import triton  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from adasplash_compile.kernels import attention, attention_bwd, render  # noqa: E402
from scripts.kernel_regs import ptxas_usage  # noqa: E402
from tests.kernels import test_gpu_frontend as fe  # noqa: E402


def _captured(cfg: tuple, fused: bool, D: int) -> list:
    """The backward's launches for ``cfg`` (not run)."""
    saved = attention_bwd.FUSED_DQ, attention_bwd.FUSED_MAX_LK
    attention_bwd.FUSED_DQ, attention_bwd.FUSED_MAX_LK = fused, 2**31
    try:
        with fe.captured_launches() as sink:
            L = 256
            q, k, v = (torch.randn(1, 2, L, D).to(torch.bfloat16) for _ in range(3))
            out = torch.randn_like(q)
            tau = torch.randn(q.shape[:3])
            tiles = torch.ones((1, 2, L // attention.TILE, L // attention.TILE), dtype=torch.uint8)
            attention_bwd.backward(torch.randn_like(out), q, k, v, None, out, tau, out.clone(), True, D ** -0.5,
                                   1.5, None, False, tiles=tiles, config=cfg)
    finally:
        attention_bwd.FUSED_DQ, attention_bwd.FUSED_MAX_LK = saved
    return sink


def _regs(fn, args, kwargs, where: bool = False) -> tuple[int, int]:
    kernel = fe._compile_to_ptx(fn, [fe._describe(a) for a in args], {k: fe._describe(v) for k, v in kwargs.items()},
                                unit_constants=True)
    return ptxas_usage(kernel.asm["ptx"], where)


def main(argv: list[str]) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("configs", nargs="+", help="BLOCK_M1,BLOCK_N1,BLOCK_M2,BLOCK_N2,warps,stages")
    ap.add_argument("--passes", action="store_true", help="the three-kernel backward (no fused dQ)")
    ap.add_argument("--d", type=int, default=128)
    ap.add_argument("--where", action="store_true", help="also the source lines with spill traffic (STL / LDL)")
    a = ap.parse_args(argv)
    print(f"triton {triton.__version__}", flush=True)
    for spec in a.configs:
        cfg = tuple(int(x) for x in spec.split(","))
        for template, params, name, args, kwargs in _captured(cfg, not a.passes, a.d):
            if name in ("_bwd_dkdv", "_bwd_dq"):
                fn = getattr(render.load(template, **dict(params, DOT_UPCAST=False)), name)  # as a GPU renders
                regs, spill = _regs(fn, args, kwargs, a.where)
                print(f"{spec} {name}: {regs} registers, {spill} bytes spilled", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
