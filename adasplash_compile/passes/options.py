"""The backend's options (``torch.compile(..., backend="adasplash", options={...})``), validated once.

Unknown names and wrong types raise at compile time with the list of valid options, so a typo
never silently turns the pass off.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from numbers import Real
from typing import Any, Callable, Mapping, Optional, Union

__all__ = ["PassOptions", "parse_options", "OPTION_DOCS"]

OPTION_DOCS = {
    "enabled": "bool, default True: False hands the graph to the compiler untouched",
    "convert_softmax": (
        "bool, default False: also rewrite softmax attention and F.scaled_dot_product_attention "
        "into α-entmax attention (this changes what the model computes: that is the point)"
    ),
    "alpha": "float > 1, default 1.5: the α given to converted softmax / SDPA sites",
    "compiler": (
        "'inductor' (default), another registered torch.compile backend name such as 'aot_eager' "
        "or 'eager', or a callable(gm, example_inputs): what compiles the rewritten graph"
    ),
}


@dataclass(frozen=True)
class PassOptions:
    enabled: bool = True
    convert_softmax: bool = False
    alpha: float = 1.5
    compiler: Union[str, Callable[..., Any]] = "inductor"

    def key(self) -> tuple:
        """What the pass's output depends on (the compiler does not change the rewrite)."""
        return (self.enabled, self.convert_softmax, self.alpha)


def _valid() -> str:
    return "; ".join(f"{k} ({v})" for k, v in OPTION_DOCS.items())


def parse_options(options: Optional[Mapping[str, Any]] = None, **extra: Any) -> PassOptions:
    """Validate ``options`` (a dict, or keywords) into :class:`PassOptions`."""
    if options is None:
        options = {}
    if isinstance(options, PassOptions):
        if extra:
            raise TypeError(f"unexpected options {sorted(extra)} next to a PassOptions object")
        return options
    if not isinstance(options, Mapping):
        raise TypeError(f"options must be a dict, got {type(options).__name__}")
    merged = dict(options)
    merged.update(extra)
    names = {f.name for f in fields(PassOptions)}
    unknown = sorted(k for k in merged if k not in names)
    if unknown:
        raise ValueError(f"unknown adasplash option(s) {unknown}; valid options are: {_valid()}")
    for flag in ("enabled", "convert_softmax"):
        if flag in merged and not isinstance(merged[flag], bool):
            raise TypeError(f"option {flag} must be a bool, got {type(merged[flag]).__name__}")
    if "alpha" in merged:
        a = merged["alpha"]
        if isinstance(a, bool) or not isinstance(a, Real):
            raise TypeError(f"option alpha must be a float > 1, got {type(a).__name__}")
        a = float(a)
        if not (1.0 < a < math.inf):
            raise ValueError(f"option alpha must be a finite float > 1, got {a}")
        merged["alpha"] = a
    if "compiler" in merged:
        c = merged["compiler"]
        if not (isinstance(c, str) or callable(c)):
            raise TypeError(
                f"option compiler must be a backend name or a callable(gm, example_inputs), got {type(c).__name__}"
            )
    return PassOptions(**merged)
