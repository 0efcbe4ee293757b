"""Benchmark inputs, defined once for every benchmark (and for anyone's one-off GPU script).

Two kinds of attention inputs, both with q·k/√D scores of unit-order scale:

- ``"rand"``: q, k, v iid standard normal. Every key is about as relevant as every other, so
  entmax keeps a wide support and few key blocks can be skipped: the hard case for sparsity.
- ``"local"``: q and k share a smooth positional code, so each query's scores peak at its own
  position and fall off with distance |i − j|, and attention concentrates near the diagonal, as
  in trained language models. The code of position i is

      f(i) = [sin(i·ω_j + φ_j), cos(i·ω_j + φ_j)]_{j < D/2},   ω_j = ω_max · (ω_min/ω_max)^{j/(D/2−1)}

  so f(i)·f(j) = Σ_j cos((i − j)·ω_j): D/2 at i = j, decorrelating over a few hundred positions
  (the lowest frequency has period 2π/ω_min ≈ 6k positions). The phases φ are random per
  (batch, head). q = c·f + σ·ε_q, k = c·f + σ·ε_k with ε iid normal, σ = LOCAL_NOISE and
  c = √(2·(1 − σ²)) so that E|q|² = D, the same as ``"rand"``. v is iid normal in both kinds.

Also: row-wise entmax inputs, a gradient for the backward, and :class:`Case`, the description of
one benchmark row that every ``bench_*.py`` file parametrises over. Every call draws fresh values from
the ``generator`` (or torch's global RNG); nothing is ever zeros.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import asdict, dataclass
from typing import Optional

import torch
from torch import Tensor

__all__ = ["Case", "Unavailable", "INPUT_KINDS", "LOCAL_NOISE", "attention_inputs", "positional_code", "rowwise_input", "grad_like"]

INPUT_KINDS = ("rand", "local")
LOCAL_NOISE = 0.3
# Frequencies of the positional code (radians per position). Measured with the entmax package,
# N=4096, causal, D=64/128: entmax-1.5 keeps ~12 keys per row (iid 'rand': ~18), at a mean distance
# of ~4 positions from the query, and 6% of the causal 64x64 blocks are non-zero ('rand': 100%).
# ω_max = 1 would shrink the support to ~2.5 keys; ω_max = 0.05 widens it to ~20.
OMEGA_MAX = 0.1
OMEGA_MIN = 1e-3


def positional_code(
    n: int,
    dim: int,
    batch_heads: int,
    *,
    device: torch.device | str = "cpu",
    generator: Optional[torch.Generator] = None,
) -> Tensor:
    """(batch_heads, n, dim) float32 code with f(i)·f(j) = Σ_j cos((i − j)·ω_j), |f(i)|² = dim/2."""
    if dim < 2 or dim % 2:
        raise ValueError(f"dim must be an even integer >= 2 for the positional code, got {dim}")
    half = dim // 2
    expo = torch.linspace(0.0, 1.0, half, device=device) if half > 1 else torch.zeros(1, device=device)
    omega = OMEGA_MAX * (OMEGA_MIN / OMEGA_MAX) ** expo  # (half,)
    phase = torch.rand((batch_heads, 1, half), generator=generator, device=device) * (2 * math.pi)
    pos = torch.arange(n, device=device, dtype=torch.float32)[None, :, None]
    angle = pos * omega + phase  # (BH, n, half); float32 keeps i·ω exact enough up to 64k positions
    return torch.cat([torch.sin(angle), torch.cos(angle)], dim=-1)


def attention_inputs(
    kind: str,
    B: int,
    H: int,
    N: int,
    D: int,
    *,
    dtype: torch.dtype = torch.bfloat16,
    device: torch.device | str = "cpu",
    requires_grad: bool = False,
    generator: Optional[torch.Generator] = None,
) -> tuple[Tensor, Tensor, Tensor]:
    """q, k, v of shape (B, H, N, D), contiguous, in ``dtype`` on ``device`` (see module doc)."""
    if kind not in INPUT_KINDS:
        raise ValueError(f"kind must be one of {INPUT_KINDS}, got {kind!r}")

    def normal():
        return torch.randn((B, H, N, D), generator=generator, device=device, dtype=torch.float32)

    if kind == "rand":
        q, k = normal(), normal()
    else:
        code = positional_code(N, D, B * H, device=device, generator=generator).reshape(B, H, N, D)
        sigma = LOCAL_NOISE
        c = math.sqrt(2.0 * (1.0 - sigma * sigma))
        q = c * code + sigma * normal()
        k = c * code + sigma * normal()
        del code
    v = normal()
    out = tuple(t.to(dtype).contiguous().requires_grad_(requires_grad) for t in (q, k, v))
    return out  # type: ignore[return-value]


def rowwise_input(
    rows: int,
    n: int,
    *,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str = "cpu",
    requires_grad: bool = False,
    generator: Optional[torch.Generator] = None,
) -> Tensor:
    """(rows, n) standard-normal logits, the row-wise entmax benchmark's input."""
    x = torch.randn((rows, n), generator=generator, device=device, dtype=torch.float32).to(dtype)
    return x.requires_grad_(requires_grad)


def grad_like(t: Tensor, generator: Optional[torch.Generator] = None) -> Tensor:
    """A fresh standard-normal upstream gradient shaped like ``t``."""
    g = torch.randn(t.shape, generator=generator, device=t.device, dtype=torch.float32)
    return g.to(t.dtype)


class Unavailable(Exception):
    """Raised by a row's factory when an implementation cannot run its case (the row skips)."""


@dataclass(frozen=True)
class Case:
    """One benchmark row: which implementation, on what, measuring which pass.

    ``bench`` is "attention", "rowwise" or "e2e"; ``pass_`` is "fwd", "fwd_bwd", "decode" (one query
    row, the last position, against all N keys) or "train_step".
    For row-wise entmax, ``N`` is the row length and ``rows`` the number of rows (``D`` is None).
    ``alpha`` is None for softmax peers. ``skip`` is a reason decided up front (infeasible peer
    rows stay in the grid so that the JSON records why they were not measured). ``compiles``: the
    row goes through ``torch.compile`` (Inductor), too slow on a CI CPU. ``order`` sorts
    the rows of a run: cheap and important rows first, long autotuning peers last, so that a time
    budget cuts the least important rows.
    """

    bench: str
    impl: str
    pass_: str
    N: int
    D: Optional[int] = None
    B: int = 1
    H: int = 1
    rows: Optional[int] = None
    alpha: Optional[float] = None
    input: str = "rand"
    causal: bool = True
    dtype: str = "bfloat16"
    skip: Optional[str] = None
    compiles: bool = False
    order: tuple = ()

    @property
    def id(self) -> str:
        if self.bench == "rowwise":
            parts = [self.impl, self.pass_, f"{self.rows}x{self.N}"]
        else:
            parts = [self.impl, self.pass_, self.input, f"N{self.N}", f"D{self.D}"]
        if self.alpha is not None:
            parts.append(f"a{self.alpha:g}")
        if self.bench != "rowwise":
            parts.append("causal" if self.causal else "noncausal")
            parts.append(f"B{self.B}H{self.H}")
        parts.append(self.dtype)
        return "-".join(parts)

    @property
    def torch_dtype(self) -> torch.dtype:
        return getattr(torch, self.dtype)

    def record(self) -> dict:
        """The row's description as plain JSON-able fields (goes into ``benchmark.extra_info``)."""
        d = asdict(self)
        d["pass"] = d.pop("pass_")
        d.pop("order")
        d.pop("skip")
        return d


@contextlib.contextmanager
def deterministic_mode():
    """``torch.use_deterministic_algorithms(True, warn_only=True)`` inside: the backward then takes
    its three kernels without atomics (``attention_bwd.FUSED_DQ`` is off there), so repeated
    passes are bitwise equal (issue #4's determinism check)."""
    was, warn = torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled()
    torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(was, warn_only=warn)
