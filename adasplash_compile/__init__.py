"""adasplash-compile: fused α-entmax attention kernels and a torch.compile backend.

Public API: :func:`entmax_attention`, :func:`entmax`, :func:`explain`, :func:`backend`.
"""

from .ops import entmax, entmax_attention

__version__ = "0.1.0"

__all__ = ["entmax_attention", "entmax", "explain", "backend", "__version__"]


def __getattr__(name):
    # The compile backend pulls in torch._dynamo / Inductor; import it only when asked for.
    if name in ("explain", "backend"):
        # import_module, not `from . import backend`: the latter asks this __getattr__ for
        # "backend" again (infinite recursion). Importing the submodule binds the *module* as
        # this package's attribute "backend"; rebind the public function over it.
        import importlib

        mod = importlib.import_module(".backend", __name__)
        globals().update(backend=mod.backend, explain=mod.explain)
        return globals()[name]
    raise AttributeError(f"module 'adasplash_compile' has no attribute {name!r}")
