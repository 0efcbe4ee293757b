"""H200 (session 20): a training step's critical path as the suite's clock sees it, without a
profiler. Each round zeroes an L2-sized buffer, records a start event on the idle stream and waits
for it (the suite's ``CudaEventClock``), runs one step (``q.grad = None``, forward,
``out.backward(do)``), and records an end event: span = end − start, the suite's number.

Host moments are read off the GPU clock too: an event recorded on a second, idle stream completes
as soon as the host enqueues it, so its time is the host's (plus a few µs of latency). Marks:
step entry, the kernel forward's entry and exit, the kernel backward's entry and exit, each
launch through ``launch.Bound`` (``launch``, ``launch#2``, ...), step exit;
and on the compute stream, the forward's completion (an event queued right after the forward
returns: max(its kernels' end, the host's enqueue)). Medians over the rounds, µs after start.

    SAVE_CACHE=0 bash scripts/gpu_run.sh python3 benchmarks/gpu_critical_path.py --out "$OUT"

Variants: ``ours`` (the forward kernel launched before the autograd node is built),
``ours_late`` (launched inside the Function's forward, ``ops.EARLY_LAUNCH = False``: session 19's
wiring), ``adasplash2`` and ``cudnn`` (span only); ``<variant>_infer`` (the forward alone, no
grad); ``ours_1thread`` (a diagnostic: the engine's CUDA device thread off, so the backward runs on
the calling thread). The variants run interleaved, one round each in a shuffled order per round (a
step's time depends on which step ran before it), in a pass without the marks (clean spans) and
one with them. (Calls A–D of session 20 also ran a lean Function for the no-mask case,
``ours_full`` / ``ours_prev`` being the variants without it; it made no measurable difference and
was dropped, and those names now run ``ours``.) Writes DIR/critical_path.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import statistics
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from adasplash_compile import entmax_attention, ops  # noqa: E402
from adasplash_compile.kernels import attention, attention_bwd, launch  # noqa: E402
from benchmarks.inputs import attention_inputs, grad_like  # noqa: E402


class Marks:
    def __init__(self):
        self.side = torch.cuda.Stream()
        self.rows: list[tuple[str, torch.cuda.Event]] = []

    def host(self, name):
        ev = torch.cuda.Event(enable_timing=True)
        ev.record(self.side)
        self.rows.append((name, ev))

    def device(self, name):
        ev = torch.cuda.Event(enable_timing=True)
        ev.record()
        self.rows.append((name, ev))


@contextlib.contextmanager
def wrapped(marks: Marks):
    f0, b0 = attention.forward, attention_bwd.backward

    def fwd(*a, **kw):
        marks.host("fwd_entry")
        r = f0(*a, **kw)
        marks.host("fwd_exit")
        marks.device("fwd_done")
        return r

    def bwd(*a, **kw):
        marks.host("bwd_entry")
        r = b0(*a, **kw)
        marks.host("bwd_exit")
        return r

    call0 = launch.Bound.__call__

    def bound_call(self, args):
        marks.host("launch")
        return call0(self, args)

    attention.forward, attention_bwd.backward, launch.Bound.__call__ = fwd, bwd, bound_call
    try:
        yield
    finally:
        attention.forward, attention_bwd.backward, launch.Bound.__call__ = f0, b0, call0


def impl(name):
    name = name.removesuffix("_infer")
    if name.startswith("ours"):
        return lambda q, k, v: entmax_attention(q, k, v, is_causal=True, alpha=1.5)
    if name == "adasplash2":
        from adasplash import adasplash_v2

        return lambda q, k, v: adasplash_v2(q, k, v, niter=1)
    from torch.nn.attention import SDPBackend, sdpa_kernel

    def cudnn(q, k, v):
        with sdpa_kernel(SDPBackend.CUDNN_ATTENTION):
            return torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)

    return cudnn


def _set_flags(variant):
    ops.EARLY_LAUNCH = variant.removesuffix("_infer") != "ours_late"


def measure(variants, kind, N, rounds, flush, with_marks):
    """The variants' steps interleaved round by round (drift on the machine hits all alike), in a
    new order each round."""
    g = torch.Generator(device="cuda").manual_seed(0)
    q, k, v = (t.requires_grad_() for t in attention_inputs(kind, 2, 16, N, 128, dtype=torch.bfloat16,
                                                              device="cuda", generator=g))
    do = grad_like(q, generator=g)
    marks = Marks()

    def make_step(variant):
        fn, infer = impl(variant), variant.endswith("_infer")

        def step():
            q.grad = k.grad = v.grad = None
            marks.host("step_entry")
            if infer:
                with torch.no_grad():
                    fn(q, k, v)
            else:
                fn(q, k, v).backward(do)
            marks.host("step_exit")

        return step

    steps = {}
    for variant in variants:
        try:
            _set_flags(variant)
            steps[variant] = make_step(variant)
            for _ in range(5):  # compile, plans, autotune
                steps[variant]()
        except Exception as exc:  # a peer that is missing here
            print(f"[path] {variant} {kind}:{N}: {type(exc).__name__}: {exc}", flush=True)
            steps.pop(variant, None)
    torch.cuda.synchronize()
    per = {v: {} for v in steps}
    spans = {v: [] for v in steps}
    with wrapped(marks) if with_marks else contextlib.nullcontext():
        order = list(steps)
        rng = random.Random(0)
        for _ in range(rounds):
            rng.shuffle(order)  # no variant always follows the same one
            for variant in order:
                step = steps[variant]
                _set_flags(variant)
                threads = (torch.autograd.set_multithreading_enabled(False) if variant == "ours_1thread"
                           else contextlib.nullcontext())
                marks.rows.clear()
                flush.zero_()
                start = torch.cuda.Event(enable_timing=True)
                start.record()
                start.synchronize()
                with threads:
                    step()
                end = torch.cuda.Event(enable_timing=True)
                end.record()
                end.synchronize()
                torch.cuda.synchronize()
                spans[variant].append(start.elapsed_time(end) * 1e3)
                seen: dict = {}
                for name, ev in marks.rows:
                    seen[name] = seen.get(name, 0) + 1
                    label = name if seen[name] == 1 else f"{name}#{seen[name]}"
                    per[variant].setdefault(label, []).append(start.elapsed_time(ev) * 1e3)
    _set_flags("ours")
    rows = []
    for variant in steps:
        xs = spans[variant]
        res = {"variant": variant, "case": f"{kind}:{N}", "marks": with_marks,
               "span_us": round(statistics.median(xs), 1),
               "span_p10_p90_us": [round(x, 1) for x in statistics.quantiles(xs, n=10)[::8]],
               "marks_us": {n: round(statistics.median(m), 1) for n, m in per[variant].items()}}
        print(f"[path] {variant:16s} {kind}:{N} marks={int(with_marks)}: span {res['span_us']:7.1f} us "
              f"(p10/p90 {res['span_p10_p90_us']}) " + " ".join(f"{n}={x:.1f}" for n, x in res["marks_us"].items()),
              flush=True)
        rows.append(res)
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=".")
    ap.add_argument("--rounds", type=int, default=200)
    ap.add_argument("--cases", default="local:4096,rand:4096")
    ap.add_argument("--variants", default="ours,ours_late,adasplash2,cudnn")
    ap.add_argument("--marks", default="0,1", help="passes without and with the host marks")
    args = ap.parse_args()
    flush = torch.empty(256 * 2**20 // 4, dtype=torch.int32, device="cuda")
    out = {"torch": torch.__version__, "device": torch.cuda.get_device_name(), "rows": []}
    for case in args.cases.split(","):
        kind, n = case.split(":")
        for with_marks in args.marks.split(","):
            out["rows"] += measure(args.variants.split(","), kind, int(n), args.rounds, flush, with_marks == "1")
    with open(os.path.join(args.out, "critical_path.json"), "w") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
