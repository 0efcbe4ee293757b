"""H200: the kernel timeline of one ``entmax_attention`` step started on an idle stream, as the
suite's clock sees it (session 12). Per case: each CUDA kernel's duration and the idle gap before
it, the host prelude (step start to the first kernel), the span (step start to the last kernel's
end) against the sum of kernel times, the host time to enqueue the step, and the step's top-level
torch ops on the host (start, duration); ``--cprofile`` adds a cProfile of 10 steps.

    SAVE_CACHE=0 bash scripts/gpu_run.sh python3 benchmarks/gpu_timeline.py --out "$OUT"

Cases are ``mode:kind:N[:knob=value,...]`` with mode ``infer`` or ``train`` (forward and
``autograd.grad``), bf16 B=2 H=16 D=128 causal α = 1.5; knobs are ``attention``, ``attention_bwd``
or ``decode`` module settings (e.g. ``GATHER_MIN_LK=8192``). Mode ``decode`` is an inference step of
``kind`` = BxHxHkxLq query rows (iid normal, not causal, GQA when Hk < H) against N keys.
Writes DIR/timeline.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from adasplash_compile import entmax_attention  # noqa: E402
from adasplash_compile.kernels import attention, attention_bwd, decode  # noqa: E402
from benchmarks.gpu_host_breakdown import per_call_us  # noqa: E402
from benchmarks.gpu_host_profile import _busy, python_profile  # noqa: E402
from benchmarks.inputs import attention_inputs  # noqa: E402

PROFILE_PY = False  # --cprofile: also a cProfile of 10 steps per case (by cumulative time)

DEFAULT_CASES = ("infer:local:4096", "train:local:4096", "train:rand:4096", "infer:rand:16384",
                 "train:local:16384", "train:rand:16384")


def _parse(case):
    mode, kind, n, *rest = case.split(":")
    knobs = {}
    for item in (rest[0].split(",") if rest else ()):
        name, val = item.split("=")
        knobs[name] = int(val) if val.lstrip("-").isdigit() else float(val)
    return mode, kind, int(n), knobs


def _knob_module(name):
    return next(m for m in (attention, attention_bwd, decode) if hasattr(m, name))


def _step(mode, q, k, v, do, leaves):
    if mode == "decode":
        return lambda: entmax_attention(q, k, v, enable_gqa=k.shape[1] != q.shape[1], alpha=1.5)
    if mode == "infer":
        return lambda: entmax_attention(q, k, v, is_causal=True, alpha=1.5)
    return lambda: torch.autograd.grad(entmax_attention(*leaves, is_causal=True, alpha=1.5), leaves, do)


def _enqueue_us(step, n=20):
    """Host time per step with the GPU kept busy (the queue never drains, and never fills)."""
    return per_call_us(step, n=n, warm=0, before=lambda: _busy(10.0))


@contextlib.contextmanager
def warmed_step(case, device="cuda"):
    """The case's step (``_step``) on fresh seeded inputs, its knobs set, after three runs (compiles,
    caches); the knobs are restored on exit. Yields (mode, kind, N, step)."""
    mode, kind, N, knobs = _parse(case)
    saved = {name: getattr(_knob_module(name), name) for name in knobs}
    for name, val in knobs.items():
        setattr(_knob_module(name), name, val)
    try:
        g = torch.Generator(device=device).manual_seed(0)
        if mode == "decode":
            B, H, Hk, Lq = (int(x) for x in kind.split("x"))
            q, k, v = (torch.randn(B, h, L, 128, device=device, generator=g).bfloat16()
                       for h, L in ((H, Lq), (Hk, N), (Hk, N)))
        else:
            q, k, v = attention_inputs(kind, 2, 16, N, 128, dtype=torch.bfloat16, device=device, generator=g)
        do = torch.randn(q.shape, device=device, dtype=torch.bfloat16, generator=g)
        leaves = [t.detach().clone().requires_grad_() for t in (q, k, v)]
        step = _step(mode, q, k, v, do, leaves)
        for _ in range(3):
            step()
        if device == "cuda":
            torch.cuda.synchronize()
        yield mode, kind, N, step
    finally:
        for name, val in saved.items():
            setattr(_knob_module(name), name, val)


def timeline(case):
    with warmed_step(case) as (mode, kind, N, step):
        enqueue = _enqueue_us(step)
        from torch.profiler import ProfilerActivity, profile, record_function

        with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
            for i in range(3):
                torch.cuda.synchronize()
                with record_function(f"step{i}"):
                    step()
                torch.cuda.synchronize()
        events = prof.events()
        mark = [e for e in events if e.name == "step2"][0]
        t0 = mark.time_range.start
        kernels = sorted((e for e in events if e.device_type == torch.autograd.DeviceType.CUDA
                          and e.time_range.start >= t0 and e.name not in ("step2",)),
                         key=lambda e: e.time_range.start)
        rows, prev_end = [], t0
        for e in kernels:
            rows.append(dict(name=e.name[:90], start_us=e.time_range.start - t0, dur_us=e.time_range.elapsed_us(),
                             gap_us=e.time_range.start - prev_end))
            prev_end = max(prev_end, e.time_range.end)
        span = prev_end - t0
        busy = sum(r["dur_us"] for r in rows)
        print(f"[timeline] {case}: span {span:.1f} us, kernels {busy:.1f} us, idle {span - busy:.1f} us "
              f"(prelude {rows[0]['start_us'] if rows else 0:.1f}); host enqueue {enqueue:.1f} us/step", flush=True)
        for r in rows:
            print(f"[timeline]   +{r['start_us']:8.1f} gap {r['gap_us']:7.1f} dur {r['dur_us']:8.1f}  {r['name']}",
                  flush=True)
        host = [dict(name=e.name[:60], start_us=e.time_range.start - t0, dur_us=e.time_range.elapsed_us())
                for e in mark.cpu_children]
        for r in host:
            print(f"[timeline]   host +{r['start_us']:8.1f} dur {r['dur_us']:7.1f}  {r['name']}", flush=True)
        if PROFILE_PY:
            print(python_profile(step, 10, "cumtime", 30), flush=True)
            print(python_profile(step, 10, "tottime", 25), flush=True)
        return dict(case=case, span_us=span, kernels_us=busy, enqueue_us=enqueue, kernels=rows, host_ops=host)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.environ.get("OUT", "."))
    ap.add_argument("--cases", default=",".join(DEFAULT_CASES).replace(",", ";"),
                    help="';'-separated mode:kind:N[:knob=value,...]")
    ap.add_argument("--cprofile", action="store_true")
    a = ap.parse_args()
    global PROFILE_PY
    PROFILE_PY = a.cprofile
    res = dict(torch=torch.__version__, device=torch.cuda.get_device_name(), cases=[])
    for case in a.cases.split(";"):
        try:
            res["cases"].append(timeline(case))
        except Exception as e:  # one failing case must not lose the rest
            print(f"[timeline] {case}: FAILED {type(e).__name__}: {e}", flush=True)
        torch.cuda.empty_cache()
    with open(os.path.join(a.out, "timeline.json"), "w") as f:
        json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
