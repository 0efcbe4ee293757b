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

On a hit the launch goes one level lower still when nothing is hooked into Triton's launches
(``DIRECT``): straight to the handle's C launcher (``CompiledKernel.run``, the call the handle's
``[grid]`` runner makes, with the same arguments in Triton 3.6 and 3.9), with pointers as integers.
That skips the runner's closure, its device / stream lookups through Triton's driver proxy, the
launch-metadata dict Triton 3.6 builds even with no hook installed, the two empty hook calls, and
one ``cuPointerGetAttribute`` per pointer in the C launcher (which would only reject host
pointers; the argument checks have already required CUDA tensors). The stream is the current one
of the current device, as in Triton's own launch. If the handle's launcher rejects that call, the
entry falls back to ``handle[grid](*args)``.

Anything without a compiled handle (the interpreter, a Triton whose launch returns something
else, a capture in tests) simply goes through the dispatch every time.

:meth:`Launcher.bind` fixes one launch site's key, grid and compile-time choices (a
:class:`Bound`, which keeps the handle once it has one), and :class:`Replay` launches a recorded
sequence of bound launches again with another call's tensors in the same roles: the attention
forward and backward keep one per key of a call that is a fixed sequence of launches, so a later
call of that key builds no key or argument list (``attention.REPLAY``, ``attention_bwd.REPLAY``).
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any, Hashable, Optional, Sequence

import torch

ENABLED = True  # False: every launch goes through Triton's dispatch (A/B host-time measurements)
DIRECT = True  # False: a hit launches through ``handle[grid](*args)`` (A/B host-time measurements)
_INT32_MAX = 2**31 - 1
_NULL = contextlib.nullcontext()  # reusable: it holds no state
MAX_ENTRIES = 512  # per kernel; a run of ever-new keys (fresh strides each call) then starts over
_OPTIONS = frozenset({"maxnreg"})  # compile options a caller may pass among the constexprs


def bounded_put(cache: dict, key: Any, value: Any, limit: int) -> Any:
    """``cache[key] = value``, starting the cache over once it holds ``limit`` entries: a run of
    ever-new keys (fresh lengths or strides each call) never grows it without bound."""
    if len(cache) >= limit:
        cache.clear()
    cache[key] = value
    return value


def aligned(*tensors: Optional[torch.Tensor]) -> tuple:
    """Per tensor: is its address a multiple of 16 bytes (what Triton specialises pointers on)."""
    return tuple([t is None or t.data_ptr() % 16 == 0 for t in tensors])  # (a list: no generator frame)


def alpha_buffer(alpha_t: torch.Tensor, device: torch.device) -> torch.Tensor:
    """A per-head α as the kernels read it: float32, contiguous, on the inputs' device."""
    return alpha_t.to(device=device, dtype=torch.float32).contiguous()


def on_device(device: torch.device):
    """A context making ``device`` the current CUDA device when it is another one than the current
    (launches go to the current device's stream, as Triton's own launch does): tensors on a second
    GPU (a model split across GPUs) launch there. A null context otherwise: the common path pays
    one ``current_device`` call."""
    if device.type == "cuda" and device.index is not None and device.index != torch.cuda.current_device():
        return torch.cuda.device(device)
    return _NULL


def layout(t: Optional[torch.Tensor]) -> Optional[tuple]:
    """An optional tensor's dtype, shape and strides (None for None): with :func:`aligned`, what
    its part in a launch follows from besides its address."""
    return None if t is None else (t.dtype, t.shape, t.stride())


def int_spec(*values: int) -> tuple:
    """What Triton specialises a (specialised) integer argument on, per value: equal to 1, and
    divisible by 16 (its type, i32 or i64, is :func:`fits_int32`'s business). A key built from these
    instead of the values themselves hits for every value with the same specialisation: strides and
    lengths that change every call (a KV cache growing by a key per decode step)."""
    return tuple((v == 1, v % 16 == 0) for v in values)


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
        if key is None or not ENABLED:
            self.fn[grid](*args, **constexprs, num_warps=num_warps, num_stages=num_stages)
            return
        self.bind(key, grid, constexprs, num_warps, num_stages)(args)

    def bind(self, key: Hashable, grid: tuple, constexprs: dict, num_warps: int, num_stages: int) -> "Bound":
        """This launch site with its key, grid and compile-time choices fixed: a :class:`Bound`
        launches new arguments of the same specialisation without building or hashing the key."""
        # the compile-time choices are part of every key (one jitted function serves several tile
        # configs)
        return Bound(self, (key, num_warps, num_stages, tuple(constexprs.values())), tuple(grid), constexprs,
                     num_warps, num_stages)

    def _dispatch(self, full_key: Hashable, grid: tuple, args: Sequence[Any], constexprs: dict, num_warps: int,
                  num_stages: int) -> Optional["_Entry"]:
        """Triton's dispatch, keeping the compiled handle under ``full_key`` when there is one."""
        compiled = self.fn[grid](*args, **constexprs, num_warps=num_warps, num_stages=num_stages)
        if not _is_handle(compiled):
            return None
        names = self._arg_names[len(args):]
        # (compile options such as ``maxnreg`` ride with the constexprs: they are no arguments)
        if set(names) != set(constexprs) - _OPTIONS:  # not the layout assumed here: keep dispatching
            return None
        entry = _Entry(compiled, tuple(constexprs[n] for n in names), _pointer_prefix(args))
        with self._lock:
            bounded_put(self._handles, full_key, entry, MAX_ENTRIES)
        return entry


class Bound:
    """A :class:`Launcher` call with its key, grid, constexprs, warps and stages fixed (from
    :meth:`Launcher.bind`); calling it with the arguments launches them. It keeps the compiled
    handle once it has one, so a caller that holds on to it (:class:`Replay`) launches later
    arguments of the same specialisation straight through the handle."""

    __slots__ = ("launcher", "key", "grid", "constexprs", "num_warps", "num_stages", "entry")

    def __init__(self, launcher: Launcher, key: Hashable, grid: tuple, constexprs: dict, num_warps: int,
                 num_stages: int):
        self.launcher, self.key, self.constexprs = launcher, key, constexprs
        self.grid = grid + (1,) * (3 - len(grid))
        self.num_warps, self.num_stages, self.entry = num_warps, num_stages, None

    def __call__(self, args: Sequence[Any]) -> None:
        entry = self.entry
        if entry is None:
            entry = self.entry = self.launcher._handles.get(self.key)
        if entry is None:
            self.entry = self.launcher._dispatch(self.key, self.grid, args, self.constexprs, self.num_warps,
                                                 self.num_stages)
            return
        grid = self.grid
        if entry.n_ptr >= 0 and DIRECT and _hooks_idle():
            try:
                entry.handle.run(grid[0], grid[1], grid[2], _current_stream(_current_device()),
                                 entry.handle.function, entry.handle.packed_metadata, None, None, None,
                                 *[t.data_ptr() for t in args[:entry.n_ptr]], *args[entry.n_ptr:], *entry.tail)
            except (TypeError, AttributeError, SystemError):
                if entry.direct_ok:  # it worked before: a real error, not the call's format
                    raise
                entry.n_ptr = -1  # this Triton's launcher wants another call: use the runner
            else:
                entry.direct_ok = True
                return
        entry.handle[grid](*args, *entry.tail)


class Replay:
    """Launches recorded on one call, launched again on later calls of the same specialisation
    with their own tensors: what an eager op's host path costs without rebuilding every key,
    config and argument list (a short sequence's call is host-bound).

    Each recorded launch's tensor arguments must each be one of the caller's ``named`` tensors
    (matched by identity: inputs and outputs, in an order the caller keeps) or one of its
    ``scratch`` tensors (buffers the launches write before they read them, allocated anew, same
    shape and dtype, on every replay). Everything else in the arguments (strides, sizes, scalars)
    is taken as it was: the caller keys the replay on all that decides it (shapes, strides,
    dtypes, alignment, scalars, module knobs). :meth:`of` returns None when a launch has a tensor
    outside both, a tensor after its leading ones, or one tensor in two roles (pass None for a role
    that is absent)."""

    __slots__ = ("steps", "scratch")

    def __init__(self, steps: tuple, scratch: tuple):
        self.steps, self.scratch = steps, scratch

    @classmethod
    def of(cls, launches: Sequence[tuple], named: Sequence[Any], scratch: Sequence[torch.Tensor] = ()):
        """``launches``: (:class:`Bound`, args) pairs in launch order."""
        where = {}
        for i, t in enumerate((*named, *scratch)):
            if isinstance(t, torch.Tensor):
                if id(t) in where:  # one tensor in two roles: which one a launch means is unknown
                    return None
                where[id(t)] = i
        steps = []
        for bound, args in launches:
            n = _pointer_prefix(args)
            if n < 0 or any(id(t) not in where for t in args[:n]):
                return None
            steps.append((bound, tuple(where[id(t)] for t in args[:n]), tuple(args[n:])))
        return cls(tuple(steps), tuple((tuple(t.shape), t.dtype, t.device) for t in scratch))

    def __call__(self, named: Sequence[Any]) -> None:
        vals = (*named, *[torch.empty(shape, dtype=dtype, device=dev) for shape, dtype, dev in self.scratch])
        for bound, slots, rest in self.steps:
            bound((*[vals[i] for i in slots], *rest))


class _Entry:
    """A cached launch: the compiled handle, the constexpr values that follow the arguments, and
    how many leading arguments are tensors (passed to the C launcher as addresses; −1: launch
    through the handle's runner). ``direct_ok``: a direct launch of this entry has succeeded."""

    __slots__ = ("handle", "tail", "n_ptr", "direct_ok")

    def __init__(self, handle: Any, tail: tuple, n_ptr: int):
        self.handle, self.tail, self.n_ptr, self.direct_ok = handle, tail, n_ptr, False


def _pointer_prefix(args: Sequence[Any]) -> int:
    """The number of leading tensor arguments, or −1 when a tensor also comes later (the direct
    launch converts only the prefix)."""
    n = 0
    while n < len(args) and isinstance(args[n], torch.Tensor):
        n += 1
    if any(isinstance(a, torch.Tensor) for a in args[n:]):
        return -1
    return n


try:
    from triton import knobs as _knobs
except ImportError:  # an older Triton: no knobs module, hooks are its business (runner path)
    _knobs = None


def _hooks_idle() -> bool:
    """No launch hook is installed (profilers such as proton install them): the direct launch can
    pass None for the hooks and their metadata. Triton 3.6 keeps the hooks as (empty) chains."""
    rt = getattr(_knobs, "runtime", None)
    if rt is None:
        return False
    for hook in (getattr(rt, "launch_enter_hook", None), getattr(rt, "launch_exit_hook", None)):
        if hook is not None and getattr(hook, "calls", True):
            return False
    return True


# the current device and its current stream, as Triton's own launch takes them
_current_device = torch.cuda.current_device
_current_stream = getattr(torch._C, "_cuda_getCurrentRawStream", None) or (
    lambda device: torch.cuda.current_stream(device).cuda_stream)


def _is_handle(obj: Any) -> bool:
    """A compiled kernel Triton can launch directly (``CompiledKernel`` in Triton 3.x)."""
    return (obj is not None and callable(getattr(obj, "__getitem__", None)) and hasattr(obj, "run")
            and hasattr(obj, "packed_metadata"))


_launchers: dict = {}
_side_streams: dict = {}


def side_stream(device: torch.device) -> Optional["torch.cuda.Stream"]:
    """A second stream of a CUDA ``device`` (high priority, one per device, kept), on which a
    caller runs launches independent of those it makes meanwhile on the current stream, so the
    two overlap: fork with ``side.wait_stream(current)`` (or an event), join with
    ``current.wait_stream(side)`` before anything reads what the side wrote, and
    ``record_stream`` tensors the side allocates for the current stream. Both calls are
    CUDA-graph capture safe. None off CUDA (the interpreter runs everything in order)."""
    if device.type != "cuda":
        return None
    index = device.index if device.index is not None else torch.cuda.current_device()
    side = _side_streams.get(index)
    if side is None:
        side = _side_streams[index] = torch.cuda.Stream(device=index, priority=-1)  # -1: high
    return side


def launcher(fn: Any) -> Launcher:
    """The :class:`Launcher` of a jitted function (one per function object)."""
    lau = _launchers.get(id(fn))
    if lau is None or lau.fn is not fn:
        lau = _launchers[id(fn)] = Launcher(fn)
    return lau
