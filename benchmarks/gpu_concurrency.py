"""H200 (session 12): the forward's fix-up launch on a side stream beside its gather launch
(``attention.FIXUP_CONCURRENT``). Call C also timed the backward's grouping of the listed pairs
beside its dense passes (since removed: slower at 16k 'local').

    SAVE_CACHE=0 bash scripts/gpu_run.sh python3 benchmarks/gpu_concurrency.py --out "$OUT"

bf16, D=128, causal, α = 1.5, inputs of benchmarks/inputs.py. In order:
1. Same results. Inference, B=2 H=16 at 16k and 32k, 'rand' and 'local': output and τ bitwise
   equal with and without the side stream. Training, 16k 'rand': gradients bitwise equal too
   (the gather launch reads a copy of the counts in both orders; call C ran before that copy was
   made in order as well, and its gradients differed by up to 6e-2).
2. Accuracy (``gpu_listed_bwd.accuracy``, 16k 'rand', B=1 H=2): dq, dk, dv against float64,
   beside plain PyTorch in bf16 (FlashAttention's 3x rule).
3. Determinism: repeated training steps at 16k 'rand' (B=2 H=16), bitwise equal.
4. CUDA graphs (B=1 H=4, 16k 'rand'): an inference call and a training step, each with the fix-up
   in order and beside, captured with ``torch.cuda.graph`` and replayed, against eager; first a
   training step under ``torch.cuda.set_sync_debug_mode("error")``, which names any host sync.
5. Time (do_bench median, ms): inference and forward+backward with the fix-up in order and beside,
   at 16k and 32k; and 8k with the lists from 8k keys (GATHER_MIN_LK = FIXUP_MIN_LK = 8192).
Writes DIR/concurrency.json. Exit status 1 when a check fails.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from adasplash_compile import entmax_attention  # noqa: E402
from adasplash_compile.kernels import attention  # noqa: E402
from benchmarks.gpu_listed_bwd import _grads, _inputs, accuracy, bench, determinism  # noqa: E402

ALPHA = 1.5
VARIANTS = {"sequential": False, "fix-up beside": True}


def capture(step):
    """``step`` captured in a CUDA graph after three warm-up calls on a side stream (as capture
    wants): (the graph, what the captured call returned)."""
    warm = torch.cuda.Stream()
    warm.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(warm):
        for _ in range(3):
            step()
    torch.cuda.current_stream().wait_stream(warm)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        static = step()
    return graph, static


def _set(fixup: bool) -> None:
    attention.FIXUP_CONCURRENT = fixup


def _infer(q, k, v):
    return attention.forward(q, k, v, None, True, q.shape[-1] ** -0.5, ALPHA, None, False)[:2]


def same_results():
    ok, rows = True, []
    for N in (16384, 32768):
        for kind in ("rand", "local"):
            q, k, v, _ = _inputs(kind, 2, 16, N, 128, seed=3)
            _set(False)
            out0, tau0 = _infer(q, k, v)
            _set(True)
            out1, tau1 = _infer(q, k, v)
            torch.cuda.synchronize()
            equal = torch.equal(out0, out1) and torch.equal(tau0, tau1)
            ok &= equal
            rows.append(dict(check="inference", N=N, kind=kind, bitwise_equal=equal))
            print(f"[same] inference N={N} {kind}: bitwise equal {equal}", flush=True)
            del q, k, v, out0, tau0, out1, tau1
    q, k, v, do = _inputs("rand", 2, 16, 16384, 128, seed=3)
    _set(False)
    g0 = _grads(q, k, v, do)
    _set(True)
    g1 = _grads(q, k, v, do)
    for name, a, b in zip(("dq", "dk", "dv"), g0, g1):
        diff = (a.float() - b.float()).abs().max().item()
        scale = a.float().abs().max().item()
        rows.append(dict(check="training", grad=name, max_abs_diff=diff, max_abs=scale))
        print(f"[same] training 16k rand {name}: max |diff| {diff:.3e} (max |g| {scale:.3e})", flush=True)
        ok &= diff == 0.0
    return ok, rows


def _sync_debug(step):
    """A step under sync debug mode "error": the first host sync raises, with where."""
    import traceback

    step()  # warm: first calls may sync (configs, shares)
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        step()
        return "no host sync"
    except Exception as e:
        return f"{type(e).__name__}: {e}\n" + "".join(traceback.format_tb(e.__traceback__)[-6:])
    finally:
        torch.cuda.set_sync_debug_mode("default")


def graphs():
    q, k, v, do = _inputs("rand", 1, 4, 16384, 128, seed=4)
    leaves = [t.detach().clone().requires_grad_() for t in (q, k, v)]

    def train():
        # (out detached: an autograd graph kept alive from an eager step holds the leaves'
        # AccumulateGrad nodes on the default stream, whose wait then breaks a later capture)
        out = entmax_attention(*leaves, is_causal=True, alpha=ALPHA)
        return (out.detach(),) + torch.autograd.grad(out, leaves, do)

    def infer():
        return (entmax_attention(q, k, v, is_causal=True, alpha=ALPHA),)

    rows, ok = [], True
    _set(True)
    note = _sync_debug(train)
    print(f"[graph] training step under sync debug mode: {note}", flush=True)
    rows.append(dict(sync_debug=note))
    for name, step in (("inference", infer), ("training", train)):
        for fixup in (False, True):
            _set(fixup)
            label = f"{name}, fix-up {'beside' if fixup else 'in order'}"
            try:
                eager = step()
                graph, static = capture(step)
                for t in static:
                    t.fill_(float("nan"))
                graph.replay()
                torch.cuda.synchronize()
                diffs = [(a.float() - b.float()).abs().max().item() for a, b in zip(eager, static)]
                good = all(torch.isfinite(b).all() for b in static) and max(diffs) == 0.0
                rows.append(dict(case=label, max_abs_diff=diffs))
                print(f"[graph] {label}: replayed, max |diff| against eager {diffs}", flush=True)
            except Exception as e:
                good = False
                rows.append(dict(case=label, error=f"{type(e).__name__}: {e}"))
                print(f"[graph] {label}: FAILED {type(e).__name__}: {str(e)[:200]}", flush=True)
            ok &= good
    return ok, rows


def timing():
    rows = []
    points = [(16384, {}), (32768, {}), (8192, {"GATHER_MIN_LK": 8192, "FIXUP_MIN_LK": 8192}), (8192, {})]
    for N, knobs in points:
        saved = {n: getattr(attention, n) for n in knobs}
        for n, val in knobs.items():
            setattr(attention, n, val)
        try:
            for kind in ("rand", "local"):
                q, k, v, do = _inputs(kind, 2, 16, N, 128)
                leaves = [t.detach().clone().requires_grad_() for t in (q, k, v)]

                def step():
                    out = entmax_attention(*leaves, is_causal=True, alpha=ALPHA)
                    torch.autograd.grad(out, leaves, do)

                row = dict(N=N, kind=kind, knobs=knobs)
                for name, flags in VARIANTS.items():
                    _set(flags)
                    row[f"fwd {name}"] = bench(lambda: entmax_attention(q, k, v, is_causal=True, alpha=ALPHA))
                    row[f"fwd+bwd {name}"] = bench(step)
                rows.append(row)
                print(f"[time] N={N} {kind} {knobs or ''}: " + ", ".join(
                    f"{key} {val:.3f}" for key, val in row.items() if isinstance(val, float)), flush=True)
                torch.cuda.empty_cache()
        finally:
            for n, val in saved.items():
                setattr(attention, n, val)
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=".")
    ap.add_argument("--determinism", type=int, default=20)
    ap.add_argument("--only-same", action="store_true", help="the same-results check alone")
    a = ap.parse_args()
    if a.only_same:
        ok, rows = same_results()
        print(f"[checks] {'all passed' if ok else 'SOME FAILED'}", flush=True)
        sys.exit(0 if ok else 1)
    import triton

    res = dict(device=torch.cuda.get_device_name(), torch=torch.__version__, triton=triton.__version__)
    ok = True
    for name, fn in (("same", same_results), ("graph", graphs)):
        try:
            good, res[name] = fn()
        except Exception as e:  # report and go on to the timings
            print(f"[{name}] FAILED {type(e).__name__}: {e}", flush=True)
            good, res[name] = False, repr(e)
        ok &= good
    _set(True)
    res["accuracy"] = accuracy()
    ok &= all(r["fa_rule_3x_ok"] for r in res["accuracy"])
    _set(True)
    res["determinism_ok"] = determinism(a.determinism)
    ok &= res["determinism_ok"]
    res["timing"] = timing()
    _set(True)
    res["checks_ok"] = ok
    with open(os.path.join(a.out, "concurrency.json"), "w") as f:
        json.dump(res, f, indent=1)
    print(f"[checks] {'all passed' if ok else 'SOME FAILED'}", flush=True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
