"""Comparison helpers for tests: mismatches print the worst elements, not just "False"."""

from __future__ import annotations

import torch
from torch import Tensor


def rel_err(actual: Tensor, expected: Tensor) -> float:
    """‖actual − expected‖ / ‖expected‖ in float64 (0 when both are zero)."""
    a, e = actual.double(), expected.double()
    den = e.norm().item()
    num = (a - e).norm().item()
    return num / den if den > 0 else num


def worst(actual: Tensor, expected: Tensor, k: int = 5) -> str:
    diff = (actual.double() - expected.double()).abs().flatten()
    if diff.numel() == 0:
        return "(empty)"
    idx = torch.topk(diff.nan_to_num(float("inf")), min(k, diff.numel())).indices
    rows = []
    for i in idx.tolist():
        pos = tuple(int(c) for c in torch.unravel_index(torch.tensor(i), actual.shape))
        rows.append(f"  at {pos}: got {actual.flatten()[i].item():.8g}, want {expected.flatten()[i].item():.8g}")
    return "\n".join(rows)


def assert_close(actual: Tensor, expected: Tensor, *, atol: float, rtol: float = 0.0, name: str = "output") -> None:
    assert actual.shape == expected.shape, f"{name}: shape {tuple(actual.shape)} != {tuple(expected.shape)}"
    assert not torch.isnan(actual).any(), f"{name}: contains NaN\n{worst(actual, expected)}"
    a, e = actual.double(), expected.double()
    bad = (a - e).abs() > atol + rtol * e.abs()
    if bad.any():
        raise AssertionError(
            f"{name}: {int(bad.sum())} of {bad.numel()} elements off (atol={atol}, rtol={rtol}); "
            f"max abs err {(a - e).abs().max().item():.3g}\n{worst(actual, expected)}"
        )


def assert_fa_rule(actual: Tensor, oracle: Tensor, baseline: Tensor, *, factor: float = 3.0,
                   floor: float = 1e-6, name: str = "output") -> None:
    """FlashAttention's low-precision rule: the kernel's error against the float64 oracle is at most
    ``factor`` times the error of a plain PyTorch implementation in the same dtype (plus a floor)."""
    assert not torch.isnan(actual).any(), f"{name}: contains NaN"
    err = (actual.double() - oracle.double()).abs().max().item()
    base = (baseline.double() - oracle.double()).abs().max().item()
    assert err <= factor * base + floor, (
        f"{name}: max error {err:.3g} > {factor} x plain-PyTorch error {base:.3g} + {floor:g}\n"
        f"{worst(actual, oracle)}"
    )


def poison(t: Tensor) -> Tensor:
    """Fill an output buffer with NaN so unwritten elements cannot pass a check."""
    return t.fill_(float("nan"))


def run_property_shard(body, strategies: dict, *, shard: int, shards: int, profile) -> None:
    """Run shard ``shard`` of ``shards`` of a hypothesis property test: ``body`` over
    ``strategies`` with its own seed and ``ceil(profile.max_examples / shards)`` examples.

    Under pytest-xdist each shard is its own test, so a property test's examples (and the kernel
    variants they compile) spread over the workers instead of queueing on one. The seed, not
    ``derandomize``'s hash of the function, picks the examples, so each shard draws its own
    reproducible set; a failure prints its reproduce blob under the profile's settings."""
    from hypothesis import given, seed, settings

    n = max(1, -(-profile.max_examples // shards))
    test = seed(shard)(settings(profile, max_examples=n)(given(**strategies)(body)))
    test()
