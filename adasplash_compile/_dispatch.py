"""Which implementation a tensor takes: Triton on CUDA, Triton's interpreter on the CPU when
``TRITON_INTERPRET=1``, the exact PyTorch reference otherwise."""

from __future__ import annotations

import functools
import os

import torch


def interpreter_on() -> bool:
    return os.environ.get("TRITON_INTERPRET", "0") not in ("", "0")


@functools.lru_cache(maxsize=None)
def triton_available() -> bool:
    try:
        import triton  # noqa: F401
        import triton.language  # noqa: F401
    except Exception:  # pragma: no cover - triton is a Linux-only dependency
        return False
    return True


def use_triton(t: torch.Tensor) -> bool:
    """True when ``t`` should go to the Triton kernels (compiled, or interpreted on the CPU)."""
    if t.is_cuda:  # (a bool attribute: no device object built on the common path)
        return triton_available()
    return t.device.type == "cpu" and interpreter_on() and triton_available()
