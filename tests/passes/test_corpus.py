"""The attention pass on a corpus of real attention code (tests/passes/corpus.py).

For every case: the exact number of sites explain() reports and rewrites, the same count on the
graph the compiler actually receives, and numerics of the compiled model against

* the eager model itself, for entmax models and for everything with ``convert_softmax=False``
  (the pass must not change what the model computes);
* the same model with softmax swapped for exact α-entmax, for converted softmax / SDPA models.

Models run in float64 so that "equal" can mean 1e-9; the custom op's CPU path is the exact
reference. Most compiles use ``compiler="aot_eager"`` (AOT autograd + eager kernels: the custom
op's autograd is exercised, Inductor's C++ codegen is not); tests/test_backend.py compiles with
Inductor itself.
"""

from __future__ import annotations

import contextlib

import pytest
import torch

from adasplash_compile.passes import FUSED_TARGETS

from .corpus import CASES, CASES_BY_NAME, softmax_as_entmax

ALPHA = 1.5


def _need(case):
    for pkg in case.needs:
        pytest.importorskip(pkg)


def _explain(model, args, **options):
    import adasplash_compile

    return adasplash_compile.explain(model, *args, **options)


def _fused_count(gm) -> int:
    return sum(1 for n in gm.graph.nodes if n.op == "call_function" and n.target in FUSED_TARGETS)


def _compile(model, convert: bool, counts: list, **kw):
    """torch.compile with backend="adasplash", recording the fused-op count of every graph the
    inner compiler receives."""
    from torch._dynamo import lookup_backend

    inner = lookup_backend("aot_eager")

    def counting(gm, example_inputs):
        counts.append(_fused_count(gm))
        return inner(gm, example_inputs)

    return torch.compile(model, backend="adasplash",
                         options={"convert_softmax": convert, "alpha": ALPHA, "compiler": counting}, **kw)


@pytest.fixture(autouse=True)
def _fresh_dynamo():
    torch._dynamo.reset()
    yield
    torch._dynamo.reset()


def _build(case, dtype=torch.float64):
    model, args = case.build()
    model = model.to(dtype)
    args = tuple(a.to(dtype) if a.is_floating_point() else a for a in args)
    return model, args


def _out(y):
    return y[0] if isinstance(y, tuple) else y


def _twin(case, convert):
    if convert:
        return softmax_as_entmax(ALPHA)
    return case.exact_twin() if case.exact_twin else contextlib.nullcontext()


def _is_hf(case):
    return "transformers" in case.needs


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_explain_counts_sites_and_rewrites(case):
    _need(case)
    model, args = _build(case, torch.float32)
    model.eval()
    conv = _explain(model, args, convert_softmax=True)
    assert len(conv.sites) == case.total_sites, str(conv)
    assert len(conv.rewritten) == case.converted_sites, str(conv)
    reports = [conv]
    if not _is_hf(case):  # (HF traces are slow; their plain count is checked on the compiled graph)
        plain = _explain(model, args)
        assert len(plain.sites) == case.total_sites, str(plain)
        assert len(plain.rewritten) == case.entmax_sites, str(plain)
        reports.append(plain)
        if case.skip_reason:
            reasons = [s.reason for s in plain.skipped]
            assert reasons and all(case.skip_reason in r for r in reasons), str(plain)
    for r in reports:
        for s in r.sites:
            assert (s.reason is None) == (s.status == "rewritten")
            assert s.location is not None and ":" in s.location, str(r)
            if s.status == "rewritten" and case.causal is not None:
                assert s.is_causal == case.causal, str(r)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_compiled_inference_matches(case):
    """Compiled (eval, no grad) output equals the eager model (no conversion: the pass must not
    change what the model computes) or, converted, its exact α-entmax twin."""
    _need(case)
    model, args = _build(case)
    model.eval()
    with torch.no_grad():
        eager = _out(model(*args))
        counts: list = []
        got_plain = _out(_compile(model, False, counts)(*args))
        assert sum(counts) == case.entmax_sites
        torch.testing.assert_close(got_plain, eager, rtol=case.eager_tol, atol=case.eager_tol)
        if case.exact_twin:
            with case.exact_twin():
                torch.testing.assert_close(got_plain, _out(model(*args)), rtol=1e-9, atol=1e-9)
        if case.converted_sites != case.entmax_sites and not _is_hf(case):
            torch._dynamo.reset()
            counts = []
            got = _out(_compile(model, True, counts)(*args))
            if case.no_grad_converted is not None:  # a native fast path: nothing to rewrite
                assert sum(counts) == case.no_grad_converted
                torch.testing.assert_close(got, eager, rtol=1e-9, atol=1e-9)
                return
            assert sum(counts) == case.converted_sites
            # (grad mode on: nn.MultiheadAttention's eager fast path would bypass the swap)
            with softmax_as_entmax(ALPHA), torch.enable_grad():
                want = _out(model(*args)).detach()
            torch.testing.assert_close(got, want, rtol=1e-9, atol=1e-9)
            assert (got - eager).abs().max() > 1e-6  # conversion really changed the model


# HF training compiles are slow on 2 CPU cores: the default suite trains the three that cover the
# distinct paths (GQA + causal eager, padded bool-mask SDPA, 0-d-tensor-scale eager); the rest
# run with --run-slow.
_FAST_HF_TRAIN = ("hf_llama_eager", "hf_bert_sdpa", "hf_gpt2_eager")
TRAIN_CASES = [
    pytest.param(c, marks=() if (not _is_hf(c) or c.name in _FAST_HF_TRAIN) else pytest.mark.slow, id=c.name)
    for c in CASES if c.trainable and (c.entmax_sites or c.converted_sites)
]


@pytest.mark.parametrize("case", TRAIN_CASES)
def test_compiled_training_matches(case):
    """Training mode (dropout 0): forward output and parameter gradients equal the exact
    reference (the model itself for entmax models; its α-entmax twin for converted ones)."""
    _need(case)
    model, args = _build(case)
    model.train()
    convert = case.entmax_sites == 0
    counts: list = []
    compiled = _compile(model, convert, counts)
    y = _out(compiled(*args))
    w = torch.randn_like(y)
    (y * w).sum().backward()
    got = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
    assert sum(counts) == (case.converted_sites if convert else case.entmax_sites)
    model.zero_grad(set_to_none=True)
    with _twin(case, convert):
        y_ref = _out(model(*args))
    (y_ref * w).sum().backward()
    torch.testing.assert_close(y, y_ref, rtol=1e-9, atol=1e-9)
    if convert:
        with torch.no_grad():
            assert (y - _out(model(*args))).abs().max() > 1e-6  # conversion really changed the model
    want = {n: p.grad for n, p in model.named_parameters() if p.grad is not None}
    assert got.keys() == want.keys() and got
    for n in want:
        torch.testing.assert_close(got[n], want[n], rtol=1e-7, atol=1e-9, msg=lambda m: f"grad of {n}: {m}")


def test_learned_alpha_gets_its_gradient():
    case = CASES_BY_NAME["learned_alpha_bisect"]
    _need(case)
    model, args = _build(case)
    counts: list = []
    _compile(model, False, counts)(*args).square().sum().backward()
    assert sum(counts) == 1
    g = model.alpha_logit.grad
    assert g is not None and torch.isfinite(g).all() and g.abs().max() > 0


def test_softmax_models_untouched_without_conversion():
    """Negatives: with convert_softmax=False no softmax/SDPA site is rewritten and outputs are
    bit-identical to running the same graph without the pass."""
    for name in ("nanogpt_manual", "timm_fused", "returns_weights"):
        case = CASES_BY_NAME[name]
        model, args = _build(case)
        model.eval()
        counts: list = []
        with torch.no_grad():
            got = _out(_compile(model, False, counts)(*args))
            torch._dynamo.reset()
            base = _out(torch.compile(model, backend="aot_eager")(*args))
        assert sum(counts) == 0
        assert torch.equal(got, base)


@pytest.mark.parametrize("fused", [False, True], ids=["manual", "fused_sdpa"])
def test_real_timm_attention(fused):
    """timm's own ViT Attention (when timm imports: it needs torchvision), both paths."""
    vt = pytest.importorskip("timm.models.vision_transformer")
    attn = vt.Attention(32, num_heads=4).double().eval()
    attn.fused_attn = fused
    x = torch.randn(2, 9, 32, dtype=torch.float64)
    report = _explain(attn, (x,), convert_softmax=True)
    assert len(report.rewritten) == 1, str(report)
    counts: list = []
    with torch.no_grad():
        got = _compile(attn, True, counts)(x)
        with softmax_as_entmax(ALPHA):
            want = attn(x)
    assert sum(counts) == 1
    torch.testing.assert_close(got, want, rtol=1e-9, atol=1e-9)


def test_native_fast_path_is_reported_with_a_reason():
    """Eval + no_grad: TransformerEncoderLayer takes PyTorch's fused native kernel; explain() says so."""
    model, args = CASES_BY_NAME["transformer_encoder_layer"].build()
    model.eval()
    with torch.no_grad():
        report = _explain(model, args, convert_softmax=True)
    assert len(report.sites) == 1 and report.sites[0].kind == "native_fused", str(report)
    assert report.sites[0].status == "skipped" and "fast path" in report.sites[0].reason
