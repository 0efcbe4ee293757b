"""kernels/launch.py: Triton's dispatch once per launch key, the compiled handle afterwards.

The interpreter has no compiled handles, so CPU CI never takes the direct path through a real
kernel (the GPU checks do: ``benchmarks/gpu_checks.py --launch``). These tests drive
:class:`launch.Launcher` with a stand-in jitted function and check the launchers' keys: a key
must change with everything a compiled kernel is specialised on.
"""

from __future__ import annotations

import contextlib
import math

import pytest
import torch

from adasplash_compile.kernels import attention, attention_bwd, launch


class _Handle:
    """Stands in for Triton's CompiledKernel: ``handle[grid](*args)`` (the runner) and
    ``handle.run(...)`` (its C launcher, the direct path) record the launch."""

    packed_metadata = "packed"
    function = "function"

    def __init__(self, log, run_accepts=True):
        self.log = log
        self.run_accepts = run_accepts

    def run(self, gx, gy, gz, stream, function, packed, launch_metadata, enter_hook, exit_hook, *args):
        if not self.run_accepts:
            raise TypeError("this launcher wants another call")
        self.log.append(("run", (gx, gy, gz), stream, function, packed, (launch_metadata, enter_hook, exit_hook),
                         args))

    def __getitem__(self, grid):
        return lambda *args: self.log.append(("handle", grid, args))


class _JitFn:
    """Stands in for a triton.jit function with two constexpr parameters after three arguments."""

    arg_names = ["X", "Y", "n", "BLOCK", "FLAG"]

    def __init__(self, returns_handle=True, run_accepts=True):
        self.log = []
        self.returns_handle = returns_handle
        self.run_accepts = run_accepts

    def __getitem__(self, grid):
        def dispatch(*args, **kwargs):
            self.log.append(("dispatch", grid, args, kwargs))
            return _Handle(self.log, self.run_accepts) if self.returns_handle else None

        return dispatch


@pytest.fixture(autouse=True)
def _runner_launches(monkeypatch):
    """The tests below check the runner path (``handle[grid](*args)``); the direct path has its own
    tests. (This CPU machine has no CUDA device or stream to look up.)"""
    monkeypatch.setattr(launch, "DIRECT", False)


def _direct(monkeypatch):
    monkeypatch.setattr(launch, "DIRECT", True)
    monkeypatch.setattr(launch, "_hooks_idle", lambda: True)
    monkeypatch.setattr(launch, "_current_device", lambda: 3)
    monkeypatch.setattr(launch, "_current_stream", lambda device: 1000 + device)


def test_direct_launch_passes_addresses_and_no_hooks(monkeypatch):
    """A hit goes straight to the handle's C launcher: the grid padded to three dims, the current
    device's stream, None for the launch metadata and hooks, leading tensors as their addresses,
    the other arguments and then the constexprs in signature order."""
    _direct(monkeypatch)
    fn = _JitFn()
    lau = launch.Launcher(fn)
    x, y = torch.zeros(4), torch.zeros(8)
    constexprs = dict(FLAG=True, BLOCK=64)
    lau(("k",), (4, 2), (x, y, 7), constexprs, 4, 3)
    lau(("k",), (8,), (y, x, 9), constexprs, 4, 3)
    assert [e[0] for e in fn.log] == ["dispatch", "run"]
    _, grid, stream, function, packed, hooks, args = fn.log[1]
    assert grid == (8, 1, 1) and stream == 1003 and (function, packed) == ("function", "packed")
    assert hooks == (None, None, None)
    assert args == (y.data_ptr(), x.data_ptr(), 9, 64, True)


def test_direct_launch_falls_back_to_the_runner(monkeypatch):
    """A launcher that rejects the direct call (another Triton's format) gets the runner from
    then on; so do a tensor after the leading pointers and an installed launch hook."""
    _direct(monkeypatch)
    fn = _JitFn(run_accepts=False)
    lau = launch.Launcher(fn)
    for _ in range(3):
        lau(("k",), (1,), (torch.zeros(2), 5, 6), dict(BLOCK=16, FLAG=False), 4, 2)
    assert [e[0] for e in fn.log] == ["dispatch", "handle", "handle"]
    fn = _JitFn()
    lau = launch.Launcher(fn)
    for _ in range(2):
        lau(("k",), (1,), (5, torch.zeros(2), 6), dict(BLOCK=16, FLAG=False), 4, 2)
    assert [e[0] for e in fn.log] == ["dispatch", "handle"]
    fn = _JitFn()
    lau = launch.Launcher(fn)
    monkeypatch.setattr(launch, "_hooks_idle", lambda: False)
    for _ in range(2):
        lau(("k",), (1,), (torch.zeros(2), 5, 6), dict(BLOCK=16, FLAG=False), 4, 2)
    assert [e[0] for e in fn.log] == ["dispatch", "handle"]


def test_hooks_idle_follows_triton_knobs(monkeypatch):
    knobs = pytest.importorskip("triton.knobs")
    assert launch._hooks_idle()  # nothing installed in the test process
    hook = knobs.runtime.launch_enter_hook
    if hasattr(hook, "add"):  # Triton 3.6-3.9: a chain of hooks
        def noop(*_):
            return None

        hook.add(noop)
        try:
            assert not launch._hooks_idle()
        finally:
            hook.remove(noop)
    else:
        monkeypatch.setattr(knobs.runtime, "launch_enter_hook", lambda *_: None)
        assert not launch._hooks_idle()


def test_dispatch_once_per_key_then_the_handle():
    fn = _JitFn()
    lau = launch.Launcher(fn)
    constexprs = dict(FLAG=True, BLOCK=64)  # keyword order differs from the signature's
    lau(("k", 1), (4, 2), ("x", "y", 7), constexprs, 4, 3)
    lau(("k", 1), (8, 2), ("x2", "y2", 9), constexprs, 4, 3)
    lau(("k", 2), (4, 2), ("x", "y", 7), constexprs, 4, 3)
    kinds = [entry[0] for entry in fn.log]
    assert kinds == ["dispatch", "handle", "dispatch"]
    assert fn.log[0][3] == dict(FLAG=True, BLOCK=64, num_warps=4, num_stages=3)
    # the handle gets every argument in signature order, the grid padded to three dims
    assert fn.log[1][1] == (8, 2, 1)
    assert fn.log[1][2] == ("x2", "y2", 9, 64, True)


def test_other_constexprs_warps_or_stages_dispatch_again():
    """One jitted function serves several tile configs (the backward's): the same caller key with
    other constexprs, warps or stages is another compiled kernel."""
    fn = _JitFn()
    lau = launch.Launcher(fn)
    for blk, warps, stages in ((64, 4, 2), (128, 4, 2), (64, 8, 2), (64, 4, 3), (64, 4, 2)):
        lau(("same",), (1,), (1, 2, 3), dict(BLOCK=blk, FLAG=False), warps, stages)
    assert [e[0] for e in fn.log] == ["dispatch"] * 4 + ["handle"]


def test_no_key_no_handle_or_disabled_always_dispatches(monkeypatch):
    for fn, key in ((_JitFn(), None), (_JitFn(returns_handle=False), ("k",))):
        lau = launch.Launcher(fn)
        for _ in range(3):
            lau(key, (1,), (1, 2, 3), dict(BLOCK=16, FLAG=False), 4, 2)
        assert [e[0] for e in fn.log] == ["dispatch"] * 3
    fn = _JitFn()
    lau = launch.Launcher(fn)
    monkeypatch.setattr(launch, "ENABLED", False)
    for _ in range(3):
        lau(("k",), (1,), (1, 2, 3), dict(BLOCK=16, FLAG=False), 4, 2)
    assert [e[0] for e in fn.log] == ["dispatch"] * 3


def test_constexprs_not_matching_the_signature_keep_dispatching():
    fn = _JitFn()
    lau = launch.Launcher(fn)
    for _ in range(2):
        lau(("k",), (1,), (1, 2, 3), dict(BLOCK=16), 4, 2)  # FLAG missing: not the assumed layout
    assert [e[0] for e in fn.log] == ["dispatch"] * 2


def test_a_compile_option_goes_to_the_dispatch_not_the_handle():
    """``maxnreg`` (attention.GATHER_MAXNREG) rides among the constexprs: Triton's dispatch gets it
    as a compile option, the handle's arguments leave it out, and another cap is another kernel."""
    fn = _JitFn()
    lau = launch.Launcher(fn)
    lau(("k",), (1,), (1, 2, 3), dict(BLOCK=16, FLAG=False, maxnreg=64), 4, 2)
    lau(("k",), (1,), (4, 5, 6), dict(BLOCK=16, FLAG=False, maxnreg=64), 4, 2)
    lau(("k",), (1,), (4, 5, 6), dict(BLOCK=16, FLAG=False, maxnreg=72), 4, 2)
    assert [e[0] for e in fn.log] == ["dispatch", "handle", "dispatch"]
    assert fn.log[0][3] == dict(BLOCK=16, FLAG=False, maxnreg=64, num_warps=4, num_stages=2)
    assert fn.log[1][2] == (4, 5, 6, 16, False)


def test_handle_table_is_bounded(monkeypatch):
    monkeypatch.setattr(launch, "MAX_ENTRIES", 4)
    fn = _JitFn()
    lau = launch.Launcher(fn)
    for i in range(10):
        lau(("k", i), (1,), (1, 2, 3), dict(BLOCK=16, FLAG=False), 4, 2)
    assert len(lau._handles) <= 4


def test_side_stream_is_cuda_only():
    """The side stream the fix-up launch runs on beside the gather launch (attention.FIXUP_CONCURRENT)
    exists on CUDA only: on the CPU (the interpreter) every launch runs in order."""
    assert launch.side_stream(torch.device("cpu")) is None


def test_aligned_and_fits_int32():
    base = torch.zeros(65, dtype=torch.bfloat16)
    assert launch.aligned(base, None) == (True, True)
    assert launch.aligned(base[1:]) == (False,)
    assert launch.fits_int32(0, 2**31 - 1) and not launch.fits_int32(2**31)


def _keys(monkeypatch, run):
    """The launch keys ``run`` hands to every Launcher (nothing is launched; no replays, which
    skip the keys)."""
    keys = []
    monkeypatch.setattr(launch.Launcher, "bind",
                        lambda self, key, grid, constexprs, w, s: keys.append(key) or (lambda args: None))
    monkeypatch.setattr(attention, "REPLAY", False)
    monkeypatch.setattr(attention_bwd, "REPLAY", False)
    run()
    return keys


@pytest.mark.parametrize("which", ["forward", "backward", "backward-fused-dq"])
def test_launch_keys_follow_layout_alignment_and_dtype(monkeypatch, which):
    """Inputs that would compile to differently specialised kernels (other strides, an unaligned
    view, another dtype) get other keys; fresh tensors of the same layout get the same ones. (A new
    length changes the strides and so the key: one more dispatch, no recompilation.)"""
    B, H, D = 1, 2, 64
    monkeypatch.setattr(attention_bwd, "FUSED_DQ", which == "backward-fused-dq")

    def inputs(kind, L=40, dtype=torch.bfloat16):
        if kind == "blhd":
            return [torch.randn(B, L, H, D, dtype=dtype).transpose(1, 2) for _ in range(3)]
        if kind == "offset":
            return [torch.randn(B * H * L * D + 1, dtype=dtype)[1:].view(B, H, L, D) for _ in range(3)]
        return [torch.randn(B, H, L, D, dtype=dtype) for _ in range(3)]

    def run_with(q, k, v):
        scale = 1 / math.sqrt(D)
        if which == "forward":
            return _keys(monkeypatch, lambda: attention.forward(q, k, v, None, True, scale, 1.5, None, False))
        L = q.shape[2]
        out = torch.zeros(B, H, L, D, dtype=q.dtype)
        tau = torch.zeros(B, H, L)
        return _keys(monkeypatch, lambda: attention_bwd.backward(torch.ones_like(out), q, k, v, None, out, tau,
                                                                 out.clone(), True, scale, 1.5, None, False))

    base = run_with(*inputs("contiguous"))
    assert base and all(k is not None for k in base)
    for other in (inputs("blhd"), inputs("offset"), inputs("contiguous", dtype=torch.float16)):
        keys = run_with(*other)
        # (the backward's first launch, δ = rowsum(dO ⊙ O₂), never sees q, k or v, nor does the
        # fused dQ's last, which scales and casts the accumulator)
        reads_qkv = slice(1, 2) if which == "backward-fused-dq" else slice(-2, None)
        assert len(keys) == len(base) and all(a != b for a, b in list(zip(keys, base))[reads_qkv])
    # fresh tensors of the same layout: the same keys, so later calls take the cached handles
    assert run_with(*inputs("contiguous")) == base


def test_int_spec_is_what_triton_specialises_on():
    assert launch.int_spec(1, 16, 17, 4096, 4097) == ((True, False), (False, True), (False, False), (False, True),
                                                      (False, False))
    # every decode step's new stride with the same specialisation gives the same key
    assert len({launch.int_spec(L * 128) for L in range(4096, 4200)}) == 1


def test_on_device_is_a_null_context_off_cuda_and_on_the_current_device(monkeypatch):
    assert isinstance(launch.on_device(torch.device("cpu")), contextlib.nullcontext)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 1)
    assert isinstance(launch.on_device(torch.device("cuda", 1)), contextlib.nullcontext)
    switched = []
    monkeypatch.setattr(torch.cuda, "device", lambda d: switched.append(d) or contextlib.nullcontext())
    launch.on_device(torch.device("cuda", 0))
    assert switched == [torch.device("cuda", 0)]


@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="needs two CUDA devices")
def test_attention_on_a_second_gpu_launches_there(deterministic):
    """Tensors on cuda:1 while cuda:0 is current (a model split across GPUs): forward, decode and
    backward run on cuda:1 and give what they give with cuda:1 current."""
    from adasplash_compile import entmax_attention

    def run():
        g = torch.Generator(device="cuda:1").manual_seed(0)
        q, k, v = (torch.randn(1, 2, L, 64, device="cuda:1", generator=g, dtype=torch.bfloat16).requires_grad_()
                   for L in (300, 300, 300))
        out = entmax_attention(q, k, v, is_causal=True)
        out.float().square().sum().backward()
        dec = entmax_attention(q.detach()[:, :, -1:], k.detach().repeat(1, 1, 8, 1),
                               v.detach().repeat(1, 1, 8, 1))
        return [t.detach().cpu() for t in (out, q.grad, k.grad, v.grad, dec)]

    with torch.cuda.device(0):
        other = run()
    with torch.cuda.device(1):
        own = run()
    for a, b in zip(other, own):
        assert torch.equal(a, b)


def test_bound_launch_dispatches_once_then_takes_the_handle():
    """A bound launch site dispatches on its first call and launches later arguments (of the same
    specialisation) through the compiled handle it kept, with the constexprs appended."""
    fn = _JitFn()
    bound = launch.Launcher(fn).bind(("k",), (2,), dict(BLOCK=16, FLAG=True), 4, 2)
    x = torch.zeros(4)
    bound((x, x, 7))
    bound((x, x, 8))
    assert [e[0] for e in fn.log] == ["dispatch", "handle"]
    assert fn.log[1][1] == (2, 1, 1) and fn.log[1][2] == (x, x, 8, 16, True)


def test_replay_swaps_in_the_callers_tensors_and_fresh_scratch(monkeypatch):
    """A replay launches each recorded launch again with the tensors the caller names in the
    same roles, new scratch of the recorded shape and dtype, and the other arguments as recorded;
    a tensor in no role, one in two roles, or a tensor after the leading ones makes no replay."""
    fn = _JitFn()
    lau = launch.Launcher(fn)
    a, b, out, scratch = torch.zeros(3), torch.ones(3), torch.zeros(2), torch.zeros(5, dtype=torch.int16)
    first = lau.bind(("one",), (1,), dict(BLOCK=8, FLAG=False), 4, 1)
    second = lau.bind(("two",), (3,), dict(BLOCK=8, FLAG=True), 4, 1)
    recorded = [(first, (a, scratch, 5)), (second, (b, out, 2))]
    for bound, args in recorded:  # (recorded as launched)
        bound(args)
    fn.log.clear()
    replay = launch.Replay.of(recorded, (a, b, None, out), (scratch,))
    assert replay is not None
    a2, b2, out2 = torch.zeros(3), torch.ones(3), torch.zeros(2)
    fresh = []
    real_empty = torch.empty
    monkeypatch.setattr(torch, "empty", lambda *s, **kw: fresh.append(real_empty(*s, **kw)) or fresh[-1])
    replay((a2, b2, None, out2))
    launched = [e[2] for e in fn.log]
    assert len(fresh) == 1 and fresh[0].shape == (5,) and fresh[0].dtype == torch.int16
    assert launched[0][0] is a2 and launched[0][1] is fresh[0] and launched[0][2:] == (5, 8, False)
    assert launched[1][0] is b2 and launched[1][1] is out2 and launched[1][2:] == (2, 8, True)
    assert launch.Replay.of([(first, (a, torch.zeros(3), 5))], (a, b)) is None  # a tensor in no role
    assert launch.Replay.of([(first, (a, 5))], (a, a)) is None  # one tensor in two roles
    assert launch.Replay.of([(first, (a, 5, b))], (a, b)) is None  # a tensor after the leading ones


def test_bounded_put_starts_over_when_full():
    cache = {}
    for i in range(5):
        assert launch.bounded_put(cache, i, str(i), 3) == str(i)
    assert cache == {3: "3", 4: "4"}  # cleared at the 4th new key, then filled again
    launch.bounded_put(cache, 4, "again", 3)
    assert cache == {3: "3", 4: "again"}
