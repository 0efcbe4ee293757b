"""The ``adasplash`` torch.compile backend and :func:`explain`.

``torch.compile(model, backend="adasplash", options={...})`` runs the attention pass
(:func:`adasplash_compile.passes.rewrite_attention`) on each Dynamo graph and hands the result to
Inductor (or to the compiler named by the ``compiler`` option). Options:

- ``enabled`` (bool, default True)
- ``convert_softmax`` (bool, default False): also rewrite softmax / SDPA attention into α-entmax
- ``alpha`` (float > 1, default 1.5): α for converted sites
- ``compiler`` ("inductor", another backend name, or a callable(gm, example_inputs))

Unknown options raise ``ValueError`` listing the valid ones.

Importing this module registers the entmax package's ``entmax15`` / ``sparsemax`` /
``entmax_bisect`` and our :func:`adasplash_compile.entmax` with ``torch._dynamo.allow_in_graph``:
each call stays one graph node (the pass can find it; AOT autograd still traces through it when
it is not rewritten), instead of Dynamo tracing into their ``autograd.Function``.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Callable, Optional, Sequence

import torch

from .passes import rewrite_attention
from .passes.options import PassOptions, parse_options
from .passes.report import RewriteReport, SiteReport

__all__ = ["backend", "explain", "RewriteReport"]

log = logging.getLogger("adasplash_compile")


def _register_entmax_functions() -> None:
    from . import ops

    fns = [ops.entmax]
    try:
        import entmax as pkg

        fns += [pkg.entmax15, pkg.sparsemax, pkg.entmax_bisect]
    except Exception:  # the entmax package is optional
        pass
    for fn in fns:
        torch._dynamo.allow_in_graph(fn)


_register_entmax_functions()


def _inner_compiler(opts: PassOptions) -> Callable:
    c = opts.compiler
    if callable(c):
        return c
    if c == "inductor":
        from torch._inductor.compile_fx import compile_fx

        return compile_fx
    from torch._dynamo import lookup_backend

    return lookup_backend(c)


def backend(gm: torch.fx.GraphModule, example_inputs: Sequence[Any], options: Optional[dict] = None, **kwargs):
    """torch.compile backend: rewrite attention sites, then compile with Inductor."""
    opts = parse_options(options, **kwargs)
    t0 = time.perf_counter()
    new_gm, sites = rewrite_attention(gm, example_inputs, opts)
    t1 = time.perf_counter()
    compiled = _inner_compiler(opts)(new_gm, list(example_inputs))
    t2 = time.perf_counter()
    n = sum(s.status == "rewritten" for s in sites)
    log.debug("adasplash backend: %d/%d sites rewritten; pass %.1f ms, compiler %.1f ms",
              n, len(sites), 1e3 * (t1 - t0), 1e3 * (t2 - t1))
    return compiled


def explain(model_or_fn: Callable, *args: Any, dynamic: Optional[bool] = None,
            example_kwargs: Optional[dict] = None, **options: Any) -> RewriteReport:
    """Trace ``model_or_fn(*args, **example_kwargs)`` as the backend would and report every attention
    site: ``report.sites`` (``.status``, ``.reason``, ``.kind``, ``.location``),
    ``report.rewritten``, ``report.skipped``; ``print(report)`` shows a table.

    ``options`` are the backend's options (unknown names raise); ``dynamic`` is passed to
    ``torch.compile``. The model runs once, eagerly, on the given inputs. Like
    ``torch._dynamo.explain``, this resets Dynamo's caches first so that the trace is fresh.
    """
    opts = parse_options(options)
    report = RewriteReport()

    def recorder(gm, example_inputs, **_):
        t0 = time.perf_counter()
        _, sites = rewrite_attention(gm, example_inputs, opts)
        report.pass_seconds += time.perf_counter() - t0
        g = report.graphs
        report.graphs += 1
        report.sites.extend(SiteReport.from_match(s, g) for s in sites)
        return gm.forward

    torch._dynamo.reset()
    try:
        compiled = torch.compile(model_or_fn, backend=recorder, dynamic=dynamic)
        compiled(*args, **(example_kwargs or {}))
    finally:
        torch._dynamo.reset()
    return report


class _CallableModule(type(torch)):
    """Importing ``adasplash_compile.backend`` binds this *module* as the package's attribute
    ``backend`` (Python does that for every submodule), shadowing the function of the same name;
    making the module callable keeps ``adasplash_compile.backend(gm, example_inputs)`` working."""

    def __call__(self, *args, **kwargs):
        return backend(*args, **kwargs)


import sys as _sys  # noqa: E402

_sys.modules[__name__].__class__ = _CallableModule
