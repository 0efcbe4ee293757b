"""The ``adasplash`` torch.compile backend: registration, options, Inductor end to end, dynamic
shapes without recompiles, fullgraph, and the compile-time overhead of the pass."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import textwrap
import time

import pytest
import torch

import adasplash_compile
from adasplash_compile.passes import FUSED_TARGETS, rewrite_attention
from tests.passes.corpus import CASES_BY_NAME, NanoGPTAttention, softmax_as_entmax


@pytest.fixture(autouse=True)
def _fresh_dynamo():
    torch._dynamo.reset()
    yield
    torch._dynamo.reset()


def _fused(gm) -> int:
    return sum(1 for n in gm.graph.nodes if n.op == "call_function" and n.target in FUSED_TARGETS)


class Recorder:
    """An inner compiler (the ``compiler`` option) that records what it receives."""

    def __init__(self, inner="eager"):
        self.graphs, self.inner = [], inner

    def __call__(self, gm, example_inputs):
        self.graphs.append(gm)
        if self.inner == "eager":
            return gm.forward
        return torch._dynamo.lookup_backend(self.inner)(gm, example_inputs)

    @property
    def fused(self) -> int:
        return sum(_fused(g) for g in self.graphs)


class TimedInductor:
    """A backend that runs the pass, then Inductor's ``compile_fx``, and adds up the time of each.

    Used as a context manager it turns Inductor's caches off. With a warm FX-graph or autograd
    cache (another test in the same run compiled the same graph), ``compile_fx`` is a lookup of a
    few hundred ms, and the ratio would compare the pass against a cache hit rather than a compile.
    """

    def __init__(self):
        self.passes = self.inductor = 0.0
        self.fused = 0
        self._caches_off = contextlib.ExitStack()

    def __enter__(self):
        import torch._functorch.config as functorch_config
        import torch._inductor.config as inductor_config

        self._caches_off.enter_context(inductor_config.patch(fx_graph_cache=False, fx_graph_remote_cache=False))
        self._caches_off.enter_context(functorch_config.patch(enable_autograd_cache=False))
        return self

    def __exit__(self, *exc):
        return self._caches_off.__exit__(*exc)

    def __call__(self, gm, example_inputs):
        from torch._inductor.compile_fx import compile_fx

        t0 = time.perf_counter()
        new, _ = rewrite_attention(gm, example_inputs, {"convert_softmax": True})
        t1 = time.perf_counter()
        compiled = compile_fx(new, example_inputs)
        self.passes += t1 - t0
        self.inductor += time.perf_counter() - t1
        self.fused += _fused(new)
        return compiled

    def report(self, name: str) -> float:
        ratio = self.passes / self.inductor
        print(f"\n[overhead] {name}: pass {1e3 * self.passes:.1f} ms, "
              f"compile_fx {1e3 * self.inductor:.0f} ms, ratio {ratio:.4f}")
        return ratio


def test_backend_is_found_by_name_in_a_fresh_process():
    code = textwrap.dedent("""
        import torch, torch.nn.functional as F
        def f(q, k, v):
            return F.softmax(q @ k.transpose(-2, -1), dim=-1) @ v
        q = torch.randn(1, 2, 5, 4)
        out = torch.compile(f, backend="adasplash", options={"convert_softmax": True, "compiler": "eager"})(q, q, q)
        print("OK", tuple(out.shape), "adasplash_compile" in __import__("sys").modules)
    """)
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "OK (1, 2, 5, 4) True" in res.stdout


def test_public_backend_and_explain_are_callables():
    assert callable(adasplash_compile.backend) and callable(adasplash_compile.explain)


def test_unknown_option_raises_listing_valid_ones():
    f = torch.compile(lambda x: x + 1, backend="adasplash", options={"convert_sofmax": True})
    with pytest.raises(Exception) as info:
        f(torch.randn(3))
    cause = info.value if isinstance(info.value, ValueError) else info.value.__cause__ or info.value.inner_exception
    assert isinstance(cause, ValueError)
    assert "convert_sofmax" in str(cause) and "convert_softmax" in str(cause)
    with pytest.raises(ValueError, match="unknown adasplash option"):
        adasplash_compile.explain(lambda x: x + 1, torch.randn(3), bogus=1)
    with pytest.raises(TypeError, match="alpha"):
        adasplash_compile.explain(lambda x: x + 1, torch.randn(3), alpha="1.5")
    with pytest.raises(ValueError, match="alpha"):
        adasplash_compile.explain(lambda x: x + 1, torch.randn(3), alpha=1.0)


def test_enabled_false_leaves_graph_alone():
    rec = Recorder()
    m = NanoGPTAttention().eval()
    torch.compile(m, backend="adasplash", options={"convert_softmax": True, "enabled": False, "compiler": rec})(
        torch.randn(2, 8, 32))
    assert rec.fused == 0 and len(rec.graphs) == 1


def test_explain_report_prints_a_table():
    m = NanoGPTAttention().eval()
    r = adasplash_compile.explain(m, torch.randn(2, 8, 32), convert_softmax=True)
    text = str(r)
    assert "1 rewritten" in text and "softmax" in text and "is_causal" in text and "corpus.py:" in text
    r2 = adasplash_compile.explain(m, torch.randn(2, 8, 32))
    assert len(r2.skipped) == 1 and "convert_softmax" in r2.skipped[0].reason


def test_dynamic_shapes_no_recompile_when_length_changes():
    """One graph serves every sequence length (the causal slice is proved symbolically)."""
    m = NanoGPTAttention(block_size=64).double().eval()
    rec = Recorder()
    compiled = torch.compile(m, backend="adasplash", dynamic=True, fullgraph=True,
                             options={"convert_softmax": True, "compiler": rec})
    torch._dynamo.utils.counters.clear()
    with torch.no_grad():
        for L in (8, 13, 5, 31):
            x = torch.randn(2, L, 32, dtype=torch.float64)
            got = compiled(x)
            with softmax_as_entmax(1.5):
                want = m(x)
            torch.testing.assert_close(got, want, rtol=1e-9, atol=1e-9)
    assert len(rec.graphs) == 1 and rec.fused == 1
    assert torch._dynamo.utils.counters["stats"]["unique_graphs"] == 1
    assert sum(torch._dynamo.utils.counters["recompiles"].values()) == 0


def test_dynamic_shapes_hf_llama_eager_gqa_causal():
    """HF Llama (eager, GQA): under dynamic=True the mask is built from arange(s0) and the scale is
    an unspecialised float; the causal proof is symbolic, one graph serves every length."""
    pytest.importorskip("transformers")
    case = CASES_BY_NAME["hf_llama_eager"]
    model, _ = case.build()
    model = model.double().eval()
    rec = Recorder()
    compiled = torch.compile(model, backend="adasplash", dynamic=True,
                             options={"convert_softmax": True, "compiler": rec})
    torch._dynamo.utils.counters.clear()
    for L in (8, 11, 5):
        ids = torch.randint(0, 64, (2, L))
        with torch.no_grad():
            got = compiled(ids)
        with softmax_as_entmax(1.5), torch.no_grad():
            want = model(ids)
        torch.testing.assert_close(got, want, rtol=1e-9, atol=1e-9)
    assert len(rec.graphs) == 1 and rec.fused == 1
    assert sum(torch._dynamo.utils.counters["recompiles"].values()) == 0
    call = next(n for n in rec.graphs[0].graph.nodes if n.op == "call_function" and n.target in FUSED_TARGETS)
    assert call.args[4] is True  # is_causal, proved for every length
    assert call.args[1].meta["example_value"].shape[1] == 2  # un-repeated K/V (GQA)


def test_inductor_end_to_end_training_nanogpt():
    """Default compiler (Inductor): converted nanoGPT attention trains; output and gradients match
    the α-entmax twin. Also measures the pass's time against Inductor's own."""
    m = NanoGPTAttention().double().train()
    x = torch.randn(2, 8, 32, dtype=torch.float64)
    w = torch.randn(2, 8, 32, dtype=torch.float64)
    with TimedInductor() as timed:  # the backward graph may compile lazily: keep it inside
        y = torch.compile(m, backend=timed)(x)
        (y * w).sum().backward()
    got = {n: p.grad.clone() for n, p in m.named_parameters()}
    m.zero_grad()
    with softmax_as_entmax(1.5):
        y_ref = m(x)
    (y_ref * w).sum().backward()
    torch.testing.assert_close(y, y_ref, rtol=1e-9, atol=1e-9)
    for n, p in m.named_parameters():
        torch.testing.assert_close(got[n], p.grad, rtol=1e-7, atol=1e-9)
    assert timed.fused == 1
    assert timed.report("nanoGPT train") <= 0.10


def test_inductor_entmax_model_matches_eager_and_backend_option_path():
    pytest.importorskip("entmax")
    case = CASES_BY_NAME["opennmt_entmax15"]
    model, (x, pad) = case.build()
    model = model.double().eval()
    x = x.double()
    with torch.no_grad():
        got = torch.compile(model, backend="adasplash")(x, pad)  # default options, Inductor
        want = model(x, pad)
    torch.testing.assert_close(got, want, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("name", [
    "timm_manual",
    pytest.param("hf_llama_eager", marks=pytest.mark.slow),  # ~50 s of Inductor on 2 cores
    pytest.param("hf_bert_sdpa", marks=pytest.mark.slow),
])
def test_pass_overhead_vs_inductor(name):
    """Compile-time overhead of the pass: ≤ 10% of Inductor's compile_fx on corpus models."""
    case = CASES_BY_NAME[name]
    for pkg in case.needs:
        pytest.importorskip(pkg)
    model, args = case.build()
    model.eval()
    with TimedInductor() as timed, torch.no_grad():
        torch.compile(model, backend=timed)(*args)
    assert timed.report(name) <= 0.10
