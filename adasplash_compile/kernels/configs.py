"""Default launch configs for the attention forward, keyed by (dtype, rounded head dim).

Data, not code: the launcher reads ``FWD_DEFAULTS`` when autotuning is off or has no cached entry,
and autotunes over ``fwd_candidates`` otherwise. A config names the tile shape, warps and stages,
sweep 1's mode (``hist``: the histogram "elem" or "tile", or the candidate "subset", see the template) and whether the forward
runs as one kernel or as a stats kernel (sweeps 1-2) plus an output kernel (``split``), each with
the same tiles. ``hist="tile"`` needs BLOCK_N < 128 (7-bit per-tile slots).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch


@dataclass(frozen=True)
class FwdConfig:
    BLOCK_M: int
    BLOCK_N: int
    num_warps: int
    num_stages: int
    hist: str = "elem"
    split: bool = False
    # warps when the kernel is the general-α histogram one (a float α other than 1.5 / 2, or one
    # per head, with attention.SUBSET_GENERAL off or a config whose hist is not "subset"); 0: num_warps
    general_warps: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


_F16 = (torch.float16, torch.bfloat16)

# Granularity of the active-tile map the forward hands to the backward (``tiles``): one byte per
# TILE x TILE block of (query, key) positions, 1 where the block carries weight (some key above
# its query row's τ). The backward's dK/dV pass visits, per key block, only the query blocks from
# the first to the last marked one. Here (no Triton import) so the op's fake implementation can
# size the map.
TILE = 64

# (dtype group, HEAD_DIM_ROUNDED) -> config. "lowp" = fp16/bf16. None = any head dim.
FWD_DEFAULTS: dict[tuple[str, object], FwdConfig] = {
    # H200, 2026-11-29 session 4 (benchmarks/results/run-2026-11-29-s4-call{A,B}): sweep 1 keeping
    # candidates ("subset") at 64x64/4 warps against the histogram ("elem") at D=128, causal, α=1.5:
    # rand 0.89 / 11.5 / 47.2 ms against 1.28 / 16.8 / 64.0 at 4k / 16k / 32k, local 0.38 / 3.51 /
    # 12.7 against 0.41 / 3.87 / 14.2; 8 warps at 64 rows ran 2x slower, 128x64/8 warps 10-15% slower
    # on rand. Session 26 call C (run-2026-12-02-s26-callC, do_bench ms, the table's 64x64/4/3
    # top-4 against 64x128/8 warps with top-3 per score position, 6 min/max per score against 8):
    # 16k rand forward 6.83 against 9.01 (3 stages) / 9.50 (2), 4k rand 0.785 against 1.33, 16k
    # local 3.28 against 4.77, 4k local 0.318 against 0.50 (top-4 at 64x128/8: 10.67 at 16k rand).
    # Call D, the neighbours ptxas spills less in (4k single launch: 16 / 0 / 148 bytes against
    # 248), 64x64/4/2, 64x32/4/3, 32x64/4/3: 4k rand 0.804 / 1.085 / 1.757 against 0.787, 16k rand
    # 7.18 / 11.20 / 10.02 against 6.81, 16k local 4.03 / 4.60 / 7.88 against 3.28.
    # Smaller head dims take the same tile (a 128-row tile would hold 256 candidate registers per
    # thread at 4 warps).
    ("lowp", 16): FwdConfig(64, 64, 4, 3, hist="subset"),
    ("lowp", 32): FwdConfig(64, 64, 4, 3, hist="subset"),
    ("lowp", 64): FwdConfig(64, 64, 4, 3, hist="subset"),
    # General α's histogram kernel (SUBSET_GENERAL off; "subset" general α keeps 4 warps: no
    # spills in its loops, Triton 3.6) holds more live registers in its probe sweeps: at 4
    # warps ptxas (Triton 3.9, scripts/kernel_regs.py) spills 1188 bytes per thread, at 8 warps
    # 144. H200 session 14 call H, α = 1.7, 4k causal forward, 8 / 4 warps: rand 22.8 / 35.0 ms,
    # local 1.99 / 1.95.
    ("lowp", 128): FwdConfig(64, 64, 4, 3, hist="subset", general_warps=8),
    ("lowp", 256): FwdConfig(64, 32, 8, 2),
    ("fp32", 16): FwdConfig(64, 32, 4, 2),
    ("fp32", 32): FwdConfig(64, 32, 4, 2),
    ("fp32", 64): FwdConfig(64, 32, 4, 2),
    ("fp32", 128): FwdConfig(64, 32, 8, 2),
    ("fp32", 256): FwdConfig(32, 32, 8, 1),
    ("lowp", None): FwdConfig(64, 64, 4, 2),  # fallback rows
    ("fp32", None): FwdConfig(32, 32, 4, 1),
}

# Autotuning candidates (measured per bucket, then cached on disk). H200, 16k causal rand, α=1.5,
# the fused kernel with hist="elem" (benchmarks/results/run-2026-11-29-s2-call3): 128x64/8 warps
# 17.8 ms, 64x64/4 warps 16.8 ms, 128x32/8 warps 22.4 ms, 64x32/4 warps/2 stages 21.8 ms.
_LOWP_CANDIDATES = [
    FwdConfig(128, 64, 8, 3),
    FwdConfig(64, 64, 4, 3),  # the histogram default before session 4
    FwdConfig(64, 64, 4, 3, hist="tile"),
    FwdConfig(128, 64, 8, 3, hist="tile"),
    FwdConfig(64, 64, 4, 3, split=True),
    FwdConfig(128, 64, 8, 3, hist="tile", split=True),
    # not yet measured: with O₂ (training) the 4-warp 64x64 kernel spills ~1 KB per thread (ptxas,
    # scripts/kernel_regs.py) and the 8-warp one none
    FwdConfig(64, 64, 8, 3),
    # sweep 1 keeps candidates instead of a histogram (α = 1.5 and 2; general α renders "elem")
    FwdConfig(128, 64, 8, 3, hist="subset"),
]
_LOWP_CANDIDATES_256 = [
    FwdConfig(64, 32, 8, 2),
    FwdConfig(64, 64, 8, 2),
    FwdConfig(128, 32, 8, 2),
]
_FP32_CANDIDATES = [
    FwdConfig(64, 32, 8, 2),
    FwdConfig(64, 32, 4, 2),
    FwdConfig(32, 32, 4, 2),
]


def _group(dtype: torch.dtype) -> str:
    return "lowp" if dtype in _F16 else "fp32"


def fwd_default(dtype: torch.dtype, head_dim_rounded: int) -> FwdConfig:
    g = _group(dtype)
    return FWD_DEFAULTS.get((g, head_dim_rounded), FWD_DEFAULTS[(g, None)])


def fwd_candidates(dtype: torch.dtype, head_dim_rounded: int) -> list[FwdConfig]:
    if _group(dtype) == "fp32":
        cands = _FP32_CANDIDATES
    elif head_dim_rounded >= 256:
        cands = _LOWP_CANDIDATES_256
    else:
        cands = _LOWP_CANDIDATES
    default = fwd_default(dtype, head_dim_rounded)
    return [default] + [c for c in cands if c != default]
