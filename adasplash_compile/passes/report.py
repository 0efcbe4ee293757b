"""What :func:`adasplash_compile.explain` returns: one row per attention site found."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

__all__ = ["SiteReport", "RewriteReport"]


@dataclass(frozen=True)
class SiteReport:
    """One attention site: ``status`` is "rewritten" or "skipped"; ``reason`` says why it was
    skipped (None when rewritten); ``kind`` is the map (softmax, sdpa, entmax15, sparsemax,
    entmax_bisect, entmax, mha); ``location`` is ``file:line`` in the user's code."""

    kind: str
    status: str
    reason: Optional[str]
    location: Optional[str]
    graph: int = 0
    node: str = ""
    is_causal: Optional[bool] = None
    gqa: Optional[int] = None

    @classmethod
    def from_match(cls, m, graph: int = 0) -> "SiteReport":
        rewritten = m.status == "rewritten"
        return cls(
            kind=m.kind, status=m.status, reason=m.reason, location=m.location, graph=graph,
            node=m.map_node.name, is_causal=bool(m.is_causal) if rewritten else None,
            gqa=m.gqa if rewritten else None,
        )


@dataclass
class RewriteReport:
    sites: list = field(default_factory=list)
    graphs: int = 0
    pass_seconds: float = 0.0

    @property
    def rewritten(self) -> list:
        return [s for s in self.sites if s.status == "rewritten"]

    @property
    def skipped(self) -> list:
        return [s for s in self.sites if s.status == "skipped"]

    def __len__(self) -> int:
        return len(self.sites)

    def __str__(self) -> str:
        head = (f"adasplash: {len(self.sites)} attention site(s) in {self.graphs} graph(s): "
                f"{len(self.rewritten)} rewritten, {len(self.skipped)} skipped")
        if not self.sites:
            return head
        rows = [("#", "kind", "status", "where", "details")]
        for i, s in enumerate(self.sites):
            if s.status == "rewritten":
                bits = []
                if s.is_causal:
                    bits.append("is_causal")
                if s.gqa and s.gqa > 1:
                    bits.append(f"gqa x{s.gqa}")
                detail = ", ".join(bits)
            else:
                detail = s.reason or ""
            where = s.location or "?"
            if len(where) > 60:
                where = "..." + where[-57:]
            rows.append((str(i), s.kind, s.status, where, detail))
        widths = [max(len(r[c]) for r in rows) for c in range(4)]
        lines = [head]
        for r in rows:
            lines.append("  ".join(r[c].ljust(widths[c]) for c in range(4)) + "  " + r[4])
        return "\n".join(lines)

    __repr__ = __str__
