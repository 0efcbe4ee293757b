"""Launch a jitted Triton kernel through its compiled handle once its specialisation is known.

``kernel[grid](*args, **constexprs)`` goes through Triton's JIT dispatch on every call: it binds
the arguments, computes each one's specialisation (dtype, 16-byte alignment of pointers,
divisibility by 16 and equality to 1 of integers), builds the cache key and looks the compiled
kernel up. With the ~50 arguments of the attention kernels that is ~20-25 µs of host time per
launch on the H200 (benchmarks/results/h200-2026-11-29-session5.md), which a short call's
device-time measurement sees as an idle GPU.

:class:`Launcher` does the dispatch once per *launch key* and then calls the compiled kernel's
own launcher (``CompiledKernel[grid](*args)``, the same ``run`` the dispatch ends in). The caller
builds the key from what decides the specialisation: every tensor's dtype and alignment, every
integer argument the kernel specialises on (strides, head counts), and whether the runtime
lengths still fit in 32 bits; the launcher adds the constexprs, warps and stages. Equal keys
mean an identical specialisation, so the cached handle is the kernel Triton's dispatch would
have picked.

Anything without a compiled handle (the interpreter, a Triton whose launch returns something
else, a capture in tests) simply goes through the dispatch every time.
"""

from __future__ import annotations

import threading
from typing import Any, Hashable, Optional, Sequence

import torch

ENABLED = True  # False: every launch goes through Triton's dispatch (A/B host-time measurements)
_INT32_MAX = 2**31 - 1
MAX_ENTRIES = 512  # per kernel; a run of ever-new keys (fresh strides each call) then starts over


def aligned(*tensors: Optional[torch.Tensor]) -> tuple:
    """Per tensor: is its address a multiple of 16 bytes (what Triton specialises pointers on)."""
    return tuple(t is None or t.data_ptr() % 16 == 0 for t in tensors)


def fits_int32(*sizes: int) -> bool:
    """Integers Triton does not specialise on still take i32 or i64 by value."""
    return all(-_INT32_MAX - 1 <= s <= _INT32_MAX for s in sizes)


class Launcher:
    """Launch ``fn`` (a ``triton.jit`` function): the JIT dispatch on a new key, the compiled
    handle for a key seen before."""

    def __init__(self, fn: Any):
        self.fn = fn
        self._handles: dict = {}
        self._lock = threading.Lock()
        # the constexpr parameters, in signature order after the positional arguments
        self._arg_names = list(getattr(fn, "arg_names", ()))

    def __call__(self, key: Optional[Hashable], grid: tuple, args: Sequence[Any], constexprs: dict,
                 num_warps: int, num_stages: int) -> None:
        cached = key is not None and ENABLED
        if cached:
            # the compile-time choices are part of every key (one jitted function serves several
            # tile configs)
            key = (key, num_warps, num_stages, tuple(constexprs.values()))
            hit = self._handles.get(key)
            if hit is not None:
                handle, tail = hit
                handle[grid + (1,) * (3 - len(grid))](*args, *tail)
                return
        compiled = self.fn[grid](*args, **constexprs, num_warps=num_warps, num_stages=num_stages)
        if not cached or not _is_handle(compiled):
            return
        names = self._arg_names[len(args):]
        if set(names) != set(constexprs):  # not the layout assumed here: keep dispatching
            return
        with self._lock:
            if len(self._handles) >= MAX_ENTRIES:
                self._handles.clear()
            self._handles[key] = (compiled, tuple(constexprs[n] for n in names))


def _is_handle(obj: Any) -> bool:
    """A compiled kernel Triton can launch directly (``CompiledKernel`` in Triton 3.x)."""
    return (obj is not None and callable(getattr(obj, "__getitem__", None)) and hasattr(obj, "run")
            and hasattr(obj, "packed_metadata"))


_launchers: dict = {}


def launcher(fn: Any) -> Launcher:
    """The :class:`Launcher` of a jitted function (one per function object)."""
    lau = _launchers.get(id(fn))
    if lau is None or lau.fn is not fn:
        lau = _launchers[id(fn)] = Launcher(fn)
    return lau
