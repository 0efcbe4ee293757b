"""attn_implementation="adasplash" in Hugging Face transformers (tiny configs, no downloads).

The oracle is the same model with the same weights under attn_implementation="eager", with the
eager path's softmax replaced by the float64 reference entmax: it exercises transformers' own
mask building (additive float masks), GQA repeat and layout, independently of ours.
"""

from __future__ import annotations

import copy
import inspect

import pytest
import torch

transformers = pytest.importorskip("transformers")

import adasplash_compile.hf as ahf  # noqa: E402  (registers "adasplash")
import adasplash_compile.ops as ops  # noqa: E402
from adasplash_compile import reference  # noqa: E402
from tests.helpers import assert_close, rel_err  # noqa: E402

VOCAB = 50


def _llama_config(**kw):
    cfg = dict(
        vocab_size=VOCAB, hidden_size=32, intermediate_size=48, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64,
    )
    cfg.update(kw)
    return transformers.LlamaConfig(**cfg)


def _bert_config(**kw):
    cfg = dict(
        vocab_size=VOCAB, hidden_size=32, intermediate_size=48, num_hidden_layers=2,
        num_attention_heads=4, max_position_embeddings=64,
        hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
    )
    cfg.update(kw)
    return transformers.BertConfig(**cfg)


def _pair(config):
    """(model under test: adasplash, float32; oracle: eager, float64, same weights)."""
    # Separate config objects: from_config records the implementation on the config it is given.
    model = transformers.AutoModel.from_config(copy.deepcopy(config), attn_implementation="adasplash").eval()
    oracle = transformers.AutoModel.from_config(copy.deepcopy(config), attn_implementation="eager").eval()
    assert model.config._attn_implementation == "adasplash"
    oracle.load_state_dict(model.state_dict())
    return model, oracle.double()


@pytest.fixture
def reference_path(monkeypatch):
    """Run our op on the exact CPU reference even under TRITON_INTERPRET=1: these tests check the
    integration (masks, GQA, layout, α, autograd); the kernels have their own tests, and the
    interpreter would make each model call take seconds. One test below keeps the active path."""
    monkeypatch.setattr(ops, "use_triton", lambda t: False)


@pytest.fixture
def entmax_eager(monkeypatch):
    """Make the eager path's softmax the float64 reference entmax with the given α."""

    def install(alpha):
        def softmax(x, dim=-1, dtype=None, **_):
            return reference.entmax(x.double(), alpha, dim=dim)

        monkeypatch.setattr(torch.nn.functional, "softmax", softmax)

    return install


@pytest.fixture
def op_calls(monkeypatch):
    """Count calls into adasplash_compile's entmax_attention, so a silent fallback cannot pass."""
    calls = []
    real = ops.entmax_attention

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(ops, "entmax_attention", spy)
    return calls


def _tokens(batch, length):
    return torch.randint(0, VOCAB, (batch, length))


def test_register_is_idempotent_and_registers_attention_and_mask():
    from transformers.masking_utils import ALL_MASK_ATTENTION_FUNCTIONS
    from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS

    ahf.register()
    ahf.register()
    assert ALL_ATTENTION_FUNCTIONS["adasplash"] is ahf.attention_forward
    assert ALL_MASK_ATTENTION_FUNCTIONS["adasplash"] is ALL_MASK_ATTENTION_FUNCTIONS["sdpa"]


def test_llama_gqa_padded_batch_matches_eager_entmax(entmax_eager, op_calls):
    # Whatever path is active (the Triton interpreter under TRITON_INTERPRET=1): HF's broadcast
    # (B, 1, L, L) bool mask and GQA heads reach the kernels as they would on a GPU.
    model, oracle = _pair(_llama_config())
    entmax_eager(ahf.DEFAULT_ALPHA)
    ids = _tokens(2, 12)
    mask = torch.ones_like(ids)
    mask[1, 8:] = 0  # right padding
    with torch.no_grad():
        got = model(ids, attention_mask=mask).last_hidden_state
        want = oracle(ids, attention_mask=mask).last_hidden_state
    assert len(op_calls) == 2, "each of the 2 layers must run through entmax_attention"
    assert all(c["enable_gqa"] for c in op_calls)
    assert_close(got[0], want[0], atol=1e-4, rtol=1e-4, name="unpadded row")
    assert_close(got[1, :8], want[1, :8], atol=1e-4, rtol=1e-4, name="padded row, real tokens")


def test_llama_unmasked_batch_uses_is_causal(reference_path, entmax_eager, op_calls):
    model, oracle = _pair(_llama_config())
    entmax_eager(ahf.DEFAULT_ALPHA)
    ids = _tokens(2, 10)
    with torch.no_grad():
        got = model(ids).last_hidden_state
        want = oracle(ids).last_hidden_state
    assert op_calls and all(c["is_causal"] and c["attn_mask"] is None for c in op_calls)
    assert_close(got, want, atol=1e-4, rtol=1e-4)


def test_llama_left_padded_rows_equal_unpadded_run(reference_path):
    model = transformers.AutoModel.from_config(_llama_config(), attn_implementation="adasplash").eval()
    n, pad = 7, 4
    seq = _tokens(1, n)
    ids = torch.cat([_tokens(1, pad), seq], dim=1)  # padding tokens are random too
    mask = torch.cat([torch.zeros(1, pad, dtype=torch.long), torch.ones(1, n, dtype=torch.long)], dim=1)
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    with torch.no_grad():
        padded = model(ids, attention_mask=mask, position_ids=positions).last_hidden_state
        alone = model(seq).last_hidden_state
    # Padded query rows attend to nothing (causal + left padding): zeros from the op, never NaN.
    assert not torch.isnan(padded).any()
    assert_close(padded[0, pad:], alone[0], atol=1e-5, rtol=1e-5, name="real tokens")


def test_llama_decoding_with_cache_matches_full_sequence(reference_path):
    model = transformers.AutoModel.from_config(_llama_config(), attn_implementation="adasplash").eval()
    ids = _tokens(2, 9)
    with torch.no_grad():
        full = model(ids).last_hidden_state
        prefix = model(ids[:, :-1], use_cache=True)
        # transformers 5.x renamed the forward's `past_key_values` argument to `cache`.
        name = "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"
        step = model(ids[:, -1:], use_cache=True, **{name: prefix.past_key_values}).last_hidden_state
    assert_close(step[:, 0], full[:, -1], atol=1e-5, rtol=1e-5, name="decoded token")


@pytest.mark.usefixtures("needs_kernels")
def test_llama_decoding_step_takes_the_decode_path(monkeypatch):
    """A decode step with a KV cache through the kernels (interpreter on the CPU): the step takes the
    decode path (split over the keys; its minimum length lowered for this tiny cache) and gives the
    full sequence's last position."""
    from adasplash_compile.kernels import decode

    monkeypatch.setattr(decode, "MIN_LK", 0)
    calls = []
    real = decode.forward

    def spy(*args, **kwargs):
        calls.append(args[0].shape)
        return real(*args, **kwargs)

    monkeypatch.setattr(decode, "forward", spy)
    torch.manual_seed(0)
    model = transformers.AutoModel.from_config(_llama_config(), attn_implementation="adasplash").eval()
    ids = _tokens(2, 9)
    with torch.no_grad():
        full = model(ids).last_hidden_state
        assert not calls  # 9 query rows per head, 18 per kv head: the fused kernel
        prefix = model(ids[:, :-1], use_cache=True)
        name = "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"
        step = model(ids[:, -1:], use_cache=True, **{name: prefix.past_key_values}).last_hidden_state
    # one decode call per layer (GQA, 4 query heads on 2 kv heads); the 8-token prefix took it too
    # (16 query rows per kv head)
    assert [tuple(s) for s in calls] == [(2, 4, 8, 8)] * 2 + [(2, 4, 1, 8)] * 2
    assert_close(step[:, 0], full[:, -1], atol=1e-5, rtol=1e-5, name="decoded token")


def test_bert_sparsemax_padded_batch_matches_eager_and_unpadded_run(reference_path, entmax_eager, op_calls):
    config = _bert_config()
    config.entmax_alpha = 2.0
    model, oracle = _pair(config)
    entmax_eager(2.0)
    ids = _tokens(2, 11)
    mask = torch.ones_like(ids)
    mask[0, 6:] = 0
    with torch.no_grad():
        got = model(ids, attention_mask=mask).last_hidden_state
        want = oracle(ids, attention_mask=mask).last_hidden_state
        alone = model(ids[:1, :6]).last_hidden_state
    assert op_calls and all(c["alpha"] == 2.0 and not c["is_causal"] for c in op_calls)
    assert_close(got[1], want[1], atol=1e-4, rtol=1e-4, name="unpadded row")
    assert_close(got[0, :6], want[0, :6], atol=1e-4, rtol=1e-4, name="padded row vs eager")
    assert_close(got[0, :6], alone[0], atol=1e-5, rtol=1e-5, name="padded row vs unpadded run")


def test_llama_gradients_match_eager_entmax(reference_path, entmax_eager):
    model, oracle = _pair(_llama_config())
    model.train()
    oracle.train()
    entmax_eager(ahf.DEFAULT_ALPHA)
    ids = _tokens(2, 8)
    mask = torch.ones_like(ids)
    mask[0, 5:] = 0
    weight = torch.randn(2, 8, 32) * mask[..., None]  # the loss ignores padded positions
    for m, w in ((model, weight), (oracle, weight.double())):
        (m(ids, attention_mask=mask).last_hidden_state * w).sum().backward()
    for name in ("layers.0.self_attn.q_proj.weight", "layers.0.self_attn.k_proj.weight",
                 "layers.1.self_attn.v_proj.weight", "embed_tokens.weight"):
        g = model.get_parameter(name).grad
        g_ref = oracle.get_parameter(name).grad
        assert g is not None and torch.isfinite(g).all() and g.abs().sum() > 0, name
        assert rel_err(g, g_ref) < 1e-4, f"{name}: rel err {rel_err(g, g_ref):.3g}"


def test_per_head_alpha_parameter_on_module_gets_gradients(reference_path, entmax_eager):
    model, oracle = _pair(_llama_config())
    heads = model.config.num_attention_heads
    alpha = torch.nn.Parameter(1.2 + torch.rand(heads))
    for layer in model.layers:
        layer.self_attn.entmax_alpha = alpha
    entmax_eager(alpha.detach().double().reshape(1, heads, 1, 1))
    ids = _tokens(2, 8)
    out = model(ids).last_hidden_state
    with torch.no_grad():
        want = oracle(ids).last_hidden_state
    assert_close(out.detach(), want, atol=1e-4, rtol=1e-4)
    out.square().sum().backward()
    assert alpha.grad is not None and torch.isfinite(alpha.grad).all() and alpha.grad.abs().sum() > 0


def test_attention_dropout_in_training_raises_naming_dropout(reference_path):
    model = transformers.AutoModel.from_config(
        _bert_config(attention_probs_dropout_prob=0.1), attn_implementation="adasplash"
    ).train()
    with pytest.raises(NotImplementedError, match="dropout"):
        model(_tokens(1, 5))
    model.eval()  # dropout is only applied in training: eval runs
    assert torch.isfinite(model(_tokens(1, 5)).last_hidden_state).all()
