"""Pure graph code over the peer graph (who replied to, mentioned or shared whom).

Arrow tables in, Arrow tables out: no database, file, clock or environment.

The influence-maximization planner (`maximize_influence`, `InfluencePlan`,
`detect_communities`, from `karmabank.graph.imm`) is exported here lazily: its module
imports numba (~0.6 s, ~90 MB), which code that only needs `reach` should not pay for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from karmabank.graph.imm import InfluencePlan, detect_communities, maximize_influence

__all__ = ["InfluencePlan", "detect_communities", "maximize_influence"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from karmabank.graph import imm

        return getattr(imm, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
