"""Every kernel the launchers generate lowers to Triton IR for a Hopper GPU (sm_90), on the CPU.

The interpreter runs a kernel as Python: it does not type-check the program the way the compiler
does. A variable redefined with another type inside an ``if`` passed every interpreter test and
failed to compile on the H200 (2026-11-29, one device call lost). This test drives the real
launchers (attention forward and backward, row-wise entmax) with CPU tensors, captures each kernel
launch instead of running it, renders the same template parameters without the interpreter, and
runs Triton's front end (AST → TTIR) for sm_90 with the launch's argument types. No GPU needed.

The H200 image has an older Triton (3.6) than CPU CI (3.9), and 3.6's layout passes crashed on a
kernel 3.9 compiles (2026-11-29, session 3: a reshaped subset loop, one more device call lost).
When ``ADASPLASH_COMPAT_TRITON_PYTHON`` names a Python whose ``triton`` is that older release
(``.ci/run`` builds one), every launch is also compiled all the way to PTX with it, with the
16-divisibility specialisation a GPU launch gives pointers and integer arguments.
"""

from __future__ import annotations

import contextlib
import importlib.util
import inspect
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from adasplash_compile.kernels import attention, attention_bwd, decode, render, rowwise


_PTR = {torch.float32: "*fp32", torch.float16: "*fp16", torch.bfloat16: "*bf16", torch.uint8: "*u8",
        torch.int8: "*i8", torch.int16: "*i16", torch.int32: "*i32", torch.int64: "*i64", torch.bool: "*i1"}


class _Capture:
    """Stands in for a jitted kernel: ``kern[grid](*args, **kw)`` records the launch."""

    def __init__(self, sink, template, params, name):
        self.sink, self.template, self.params, self.name = sink, template, params, name

    def __getitem__(self, grid):
        def launch(*args, **kwargs):
            self.sink.append((self.template, self.params, self.name, args, kwargs))

        return launch


class _Module:
    def __init__(self, real, sink, template, params):
        self._real, self._sink, self._template, self._params = real, sink, template, params

    def __getattr__(self, name):
        value = getattr(self._real, name)
        if hasattr(value, "arg_names") and callable(getattr(value, "__getitem__", None)):
            return _Capture(self._sink, self._template, self._params, name)
        return value


@pytest.fixture
def launches(monkeypatch):
    return _capture(monkeypatch)


@contextlib.contextmanager
def captured_launches():
    """:func:`launches` outside pytest (``scripts/bwd_regs.py``): the launches made inside."""
    with pytest.MonkeyPatch.context() as mp:
        yield _capture(mp)


def _capture(monkeypatch):
    """Every kernel launch from here on is recorded in the returned list instead of run."""
    sink = []
    real_load = render.load

    def load(template, **params):
        return _Module(real_load(template, **params), sink, template, params)

    monkeypatch.setattr(render, "load", load)
    # the launchers memoise their rendered modules: start empty so every one comes through load
    monkeypatch.setattr(attention, "_kernels", {})
    monkeypatch.setattr(attention_bwd, "_modules", {})
    monkeypatch.setattr(decode, "_modules", {})
    monkeypatch.setattr(rowwise, "_plans", {})
    monkeypatch.setattr(attention, "_plans", {})  # (replays skip the launchers)
    monkeypatch.setattr(attention_bwd, "_plans", {})
    return sink


def _describe(v):
    """A launch argument as JSON: tensors by dtype, scalars as they are."""
    if isinstance(v, torch.Tensor):
        return {"ptr": _PTR[v.dtype]}
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    raise TypeError(f"unexpected launch argument {type(v)}")


def _check_all(launches, tmp_path):
    """Lower every distinct captured launch in a child process with the interpreter off (a
    process started with TRITON_INTERPRET=1 has interpreter-bound triton.language helpers)."""
    assert launches, "the launcher made no kernel launch"
    jobs, seen = [], set()
    for template, params, name, args, kwargs in launches:
        params = dict(params)
        if "DOT_UPCAST" in params:
            params["DOT_UPCAST"] = False  # what a GPU launch renders
        job = dict(template=template, params=params, name=name, args=[_describe(a) for a in args],
                   kwargs={k: _describe(v) for k, v in kwargs.items()})
        key = json.dumps(job, sort_keys=True, default=str)
        if key not in seen:
            seen.add(key)
            jobs.append(job)
    spec = tmp_path / "jobs.json"
    spec.write_text(json.dumps(jobs, default=str))
    env = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}
    env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).resolve().parents[2]), env.get("PYTHONPATH", "")])
    res = subprocess.run([sys.executable, __file__, str(spec), str(tmp_path)], env=env, capture_output=True,
                         text=True, timeout=600)
    if res.returncode == 3:
        pytest.skip(res.stdout.strip().splitlines()[-1])
    assert res.returncode == 0, f"lowering failed:\n{res.stdout[-4000:]}\n{res.stderr[-4000:]}"
    compat = os.environ.get("ADASPLASH_COMPAT_TRITON_PYTHON")
    if compat:
        env["TRITON_CACHE_DIR"] = str(tmp_path / "triton_cache")  # (its kernels have no binary)
        res = subprocess.run([compat, __file__, str(spec), str(tmp_path), "compile"], env=env, capture_output=True,
                             text=True, timeout=1200)
        assert res.returncode == 0, f"compiling with {compat} failed:\n{res.stdout[-4000:]}\n{res.stderr[-4000:]}"


def _signature(fn, args, kwargs):
    sig, constexprs = {}, {}
    values = dict(zip(fn.arg_names, args))
    values.update({k: v for k, v in kwargs.items() if k in fn.arg_names})
    for i, p in enumerate(fn.params):
        v = values.get(p.name)
        if p.is_constexpr or v is None:
            sig[p.name] = "constexpr"
            constexprs[(i,)] = v
        elif isinstance(v, dict):
            sig[p.name] = v["ptr"]
        elif isinstance(v, bool):
            sig[p.name] = "i1"
        elif isinstance(v, int):
            sig[p.name] = "i32" if -2**31 <= v < 2**31 else "i64"
        elif isinstance(v, float):
            sig[p.name] = "fp32"
        else:
            raise TypeError(f"{fn.__name__}: argument {p.name} = {v!r}")
    return sig, constexprs


def _lower_to_ttir(fn, args, kwargs):
    from triton._C.libtriton import ir
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource
    from triton.compiler.compiler import make_backend

    sig, constexprs = _signature(fn, args, kwargs)
    src = ASTSource(fn=fn, signature=sig, constexprs=constexprs)
    target = GPUTarget("cuda", 90, 32)
    backend = make_backend(target)
    options = backend.parse_options({k: kwargs[k] for k in ("num_warps", "num_stages") if k in kwargs})
    ctx = ir.context()
    ir.load_dialects(ctx)
    backend.load_dialects(ctx)
    extra = (backend.get_codegen_implementation(options), backend.get_module_map(), ctx)
    if len(inspect.signature(src.make_ir).parameters) == 5:
        return src.make_ir(target, options, *extra)
    return src.make_ir(options, *extra)


def _compile_to_ptx(fn, args, kwargs, unit_constants=False):
    """Compile (TTIR → TTGIR → LLVM → PTX) for sm_90 with a GPU launch's specialisation. ptxas
    (PTX → cubin, a third of the time) is left out where the backend lets the stages be cut: the
    crashes this guards against were in Triton's own passes, and the GPU runs ptxas anyway.
    ``unit_constants``: integer arguments equal to 1 become constants, as a launch makes them
    (``scripts/bwd_regs.py``, which reads the registers off the result)."""
    import triton
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource


    sig, constexprs = _signature(fn, args, kwargs)
    values = dict(zip(fn.arg_names, args))
    attrs = {}
    for i, p in enumerate(fn.params):
        v = values.get(p.name)
        if unit_constants and sig.get(p.name) == "i32" and v == 1:
            sig[p.name], constexprs[(i,)] = "constexpr", 1
        elif sig.get(p.name, "").startswith("*") or (sig.get(p.name) == "i32" and isinstance(v, int) and v % 16 == 0):
            attrs[(i,)] = [["tt.divisibility", 16]]
    options = {k: kwargs[k] for k in ("num_warps", "num_stages", "maxnreg") if k in kwargs}
    return triton.compile(ASTSource(fn=fn, signature=sig, constexprs=constexprs, attrs=attrs),
                          target=GPUTarget("cuda", 90, 32), options=options)


def _skip_ptxas() -> None:
    """Cut the CUDA backend's stages after PTX (its cubin stage runs ptxas). The child compiles
    into its own cache directory (``_check_all``), so no kernel without a binary is ever cached
    where a launch or ``scripts/kernel_regs.py`` would find it."""
    try:
        from triton.backends.nvidia.compiler import CUDABackend
    except ImportError:  # pragma: no cover - another layout: compile all the way
        return
    add_stages = CUDABackend.add_stages

    def without_cubin(self, stages, options, *rest):
        add_stages(self, stages, options, *rest)
        if "cubin" in stages and "ptx" in stages:
            stages["cubin"] = lambda src, metadata: b""

    CUDABackend.add_stages = without_cubin


def _child(spec_path, workdir, mode="ttir"):
    try:
        from triton.compiler import ASTSource  # noqa: F401
        from triton.compiler.compiler import make_backend  # noqa: F401
    except ImportError as e:  # pragma: no cover - a Triton without these internals
        print(f"this Triton has no ASTSource/make_backend: {e}")
        return 3
    if mode == "compile":
        _skip_ptxas()
    for i, job in enumerate(json.loads(Path(spec_path).read_text())):
        src = render.render_source(job["template"], **job["params"])
        path = Path(workdir) / f"gen_{i}.py"
        path.write_text(src)
        spec = importlib.util.spec_from_file_location(path.stem, path)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[path.stem] = mod
        spec.loader.exec_module(mod)
        print(f"lowering {job['name']} {job['params']} ({mode})", flush=True)
        if mode == "compile":
            _compile_to_ptx(getattr(mod, job["name"]), job["args"], job["kwargs"])
        else:
            _lower_to_ttir(getattr(mod, job["name"]), job["args"], job["kwargs"])
    return 0


def _qkv(B=1, H=2, Hk=2, Lq=256, Lk=256, D=128, Dv=None, dtype=torch.bfloat16):
    Dv = Dv or D
    return (torch.randn(B, H, Lq, D).to(dtype), torch.randn(B, Hk, Lk, D).to(dtype),
            torch.randn(B, Hk, Lk, Dv).to(dtype))


# (name, q/k/v kwargs, mask builder, is_causal, alpha, per-head α)
_ATTENTION_CASES = [
    ("bf16-causal-a1.5-D128", dict(), None, True, 1.5, False),
    ("bf16-causal-a1.5-D64", dict(D=64), None, True, 1.5, False),
    ("fp16-keypad-gqa-a2-D80-Dv64", dict(H=4, Hk=2, D=80, Dv=64, dtype=torch.float16),
     lambda Lq, Lk: torch.rand(1, 1, 1, Lk) > 0.2, False, 2.0, False),
    ("fp32-fullfloat-perhead", dict(dtype=torch.float32, D=64),
     lambda Lq, Lk: torch.randn(1, 2, Lq, Lk), False, 1.5, True),
    ("bf16-decode-a1.3-D256", dict(Lq=1, Lk=300, D=256), None, False, 1.3, False),
]


def test_attention_kernels_lower_for_sm90(launches, tmp_path):
    """Forward (with and without O₂) and backward for each of _ATTENTION_CASES: dtypes, masks,
    GQA, head dims 64-256, α kinds, decode. One child process lowers them all."""
    for case in _ATTENTION_CASES:
        _capture_attention(*case[1:])
    names = {name for _, _, name, _, _ in launches}
    # (the backward's fused dQ and its three kernels both)
    assert {"_bwd_preprocess", "_bwd_dkdv", "_bwd_dq", "_bwd_dq_convert"} <= names, names
    _check_all(launches, tmp_path)


def _capture_attention(shape, make_mask, causal, alpha, per_head):
    q, k, v = _qkv(**shape)
    mask = make_mask(q.shape[2], k.shape[2]) if make_mask else None
    alpha_t = torch.tensor([1.3, 1.7])[: q.shape[1]] if per_head else None
    scale = q.shape[-1] ** -0.5
    for save_aux in (False, True):
        attention.forward(q, k, v, mask, causal, scale, alpha, alpha_t, save_aux, return_tiles=save_aux)
    out = torch.randn(q.shape[:3] + (v.shape[-1],)).to(q.dtype)
    tau = torch.randn(q.shape[:3])
    tiles = torch.ones(q.shape[:2] + (-(-q.shape[2] // attention.TILE), -(-k.shape[2] // attention.TILE)),
                       dtype=torch.uint8)
    for t in (None, tiles):  # the dK/dV pass with and without the forward's tile map
        attention_bwd.backward(torch.randn_like(out), q, k, v, mask, out, tau, out.clone(), causal, scale, alpha,
                               alpha_t, mask is not None and mask.dtype != torch.bool, tiles=t)
    if alpha in (1.5, 2.0) and alpha_t is None:
        # the listed rows' kernels (training from 16k keys): every row listed, key 0 (any row may
        # attend to it)
        lists = torch.zeros(q.shape[:3] + (attention.TRAIN_GATHER_CAP,), dtype=torch.int16)
        counts = torch.ones(q.shape[:3], dtype=torch.int32)
        attention_bwd.backward(torch.randn_like(out), q, k, v, mask, out, tau, out.clone(), causal, scale, alpha,
                               alpha_t, mask is not None and mask.dtype != torch.bool, tiles=tiles, lists=lists,
                               counts=counts)
    if q.dtype == torch.bfloat16 and q.shape[-1] == 128 and mask is None:
        # the H200's own table configs (CPU launches take the interpreter's small tiles), with the
        # map: its dQ tiles nest in the map's blocks, so the dK/dV pass renders without verdicts.
        # The fused dQ's (the default for a float α) and the three kernels' (deterministic mode)
        fused = attention_bwd.FUSED_DQ
        try:
            for attention_bwd.FUSED_DQ, table in ((True, attention_bwd.FUSED_CONFIGS), (False, attention_bwd._CONFIGS)):
                attention_bwd.backward(torch.randn_like(out), q, k, v, mask, out, tau, out.clone(), causal, scale,
                                       alpha, alpha_t, False, tiles=tiles, config=table[(torch.bfloat16, 128)])
        finally:
            attention_bwd.FUSED_DQ = fused


def test_decode_kernels_lower_for_sm90(launches, tmp_path, monkeypatch):
    """The decode path's kernels (and the row-wise kernel between them): α kinds, masks, causal,
    GQA, head dims 80-256, dtypes."""
    monkeypatch.setattr(decode, "MIN_LK", 0)
    cases = [(dict(Lq=1, Lk=300, H=8, Hk=2), None, False, 1.5, None),
             (dict(Lq=2, Lk=300, H=4, Hk=2, D=80, Dv=64, dtype=torch.float16),
              lambda Lq, Lk: torch.rand(1, 1, 1, Lk) > 0.2, False, 2.0, None),
             (dict(Lq=3, Lk=300, D=64, dtype=torch.float32), lambda Lq, Lk: torch.randn(1, 2, Lq, Lk), False, 1.5,
              torch.tensor([1.3, 2.5])),
             (dict(Lq=4, Lk=300, D=256), None, True, 1.3, None)]
    for shape, make_mask, causal, alpha, alpha_t in cases:
        q, k, v = _qkv(**shape)
        mask = make_mask(q.shape[2], k.shape[2]) if make_mask else None
        attention.forward(q, k, v, mask, causal, 0.1, alpha, alpha_t, False)
    names = {name for _, _, name, _, _ in launches}
    assert {"_decode_scores", "_entmax_fwd_top_kernel", "_entmax_fwd_kernel", "_decode_output",
            "_decode_combine"} <= names, names
    _check_all(launches, tmp_path)


def test_gather_and_fixup_kernels_lower_for_sm90(launches, tmp_path, monkeypatch):
    """The table's forward config as the GPU runs it from 16k keys: the main launch's two routes,
    the fix-up and the gather launch for inference and for training (the fix-up listing its rows,
    the lists kept for the backward), and general α's fix-up without the gather launch."""
    q, k, v = _qkv()
    monkeypatch.setattr(attention, "FIXUP_MIN_LK", 0)  # both launches from 16k keys on the GPU
    monkeypatch.setattr(attention, "GATHER_MIN_LK", 0)
    attention.forward(q, k, v, None, True, 0.088, 1.5, None, False)
    attention.forward(q, k, v, None, True, 0.088, 1.5, None, True, return_tiles=True, return_lists=True)
    attention.forward(q, k, v, None, True, 0.088, 1.3, None, False)
    phases = {params.get("PHASE") for _, params, _, _, _ in launches}
    assert {"fixup", "gather"} <= phases, phases
    _check_all(launches, tmp_path)


# (the configs autotuning may pick and the knobs' non-default kernels: ~5 minutes of the CI's 2
# cores for compiles a GPU run only meets when tuning or probing; on request)
@pytest.mark.slow
def test_attention_autotune_candidates_lower_for_sm90(launches, tmp_path, monkeypatch):
    """Every config autotuning may pick (histogram modes, the split forward), fwd and fwd+aux, and
    the kernels of non-default knobs (one-kernel main launch, no near-key check, no fix-up,
    profiling variants)."""
    q, k, v = _qkv()
    for cfg in attention.configs.fwd_candidates(torch.bfloat16, 128):
        monkeypatch.setattr(attention.configs, "fwd_default", lambda dtype, dr, cfg=cfg: cfg)
        for save_aux in (False, True):
            attention.forward(q, k, v, None, True, 0.088, 1.5, None, save_aux, return_tiles=save_aux)
    # the "subset" variants benchmarks/gpu_attention_subset.py times
    sub = attention.configs.FwdConfig(64, 64, 4, 3, hist="subset")
    monkeypatch.setattr(attention, "FIXUP_MIN_LK", 0)
    monkeypatch.setattr(attention, "GATHER_MIN_LK", 0)
    monkeypatch.setattr(attention, "GATHER_SPLIT", False)  # its main launch as one kernel
    attention.forward(q, k, v, None, True, 0.088, 1.5, None, False)
    monkeypatch.setattr(attention, "GATHER_MIN_LK", 1 << 30)
    monkeypatch.setattr(attention, "SUBSET_NEAR_SKIP", False)
    attention.forward(q, k, v, None, True, 0.088, 1.5, None, False)
    monkeypatch.setattr(attention, "SUBSET_FIXUP", False)
    attention.forward(q, k, v, None, True, 0.088, 1.5, None, False)
    for stop in ("norefine", "sweep1"):
        attention.profile_variant(q, k, v, True, stop_after=stop, cfg=sub)()
    _check_all(launches, tmp_path)


def _rowwise_sweep_variants():
    from benchmarks.gpu_rowwise import SWEEP

    seen = {}
    for (dtype, n), variants in SWEEP.items():
        for v in variants:
            seen.setdefault(json.dumps([dtype, n, v], sort_keys=True), (dtype, n, v))
    return list(seen.values())


def test_rowwise_sweep_variants_lower_for_sm90(launches, tmp_path):
    """The row-wise variants the GPU sweep (benchmarks/gpu_rowwise.py --sweep) will time."""
    for dtype, n, variant in _rowwise_sweep_variants():
        x = torch.randn(8, n).to(getattr(torch, dtype))
        rowwise.entmax_forward_with_stats(x, 1.5, **variant)
    _check_all(launches, tmp_path)


def test_rowwise_kernels_lower_for_sm90(launches, tmp_path):
    """Default row-wise forward, forward with stats and backward: fp32/bf16/fp16, α kinds,
    per-row α, the looping path (n > 32768)."""
    for n, alpha, per_row, dtype in [(4096, 1.5, False, torch.float32), (1000, 2.0, False, torch.bfloat16),
                                     (40000, 1.5, False, torch.float32), (33, 1.3, True, torch.float16)]:
        x = torch.randn(4, n).to(dtype)
        alpha_t = torch.full((4,), 1.4) if per_row else None
        p = rowwise.entmax_forward(x, alpha, alpha_t)
        rowwise.entmax_forward_with_stats(x, alpha, alpha_t)
        rowwise.entmax_backward(torch.randn_like(x), p, alpha, alpha_t)
    _check_all(launches, tmp_path)


if __name__ == "__main__":
    sys.exit(_child(*sys.argv[1:4]))
