"""Pure graph code over the peer graph (who replied to, mentioned or shared whom).

Arrow tables in, Arrow tables out: no database, file, clock or environment.

The influence-maximization planner (`maximize_influence`, `InfluencePlan` from
`karmabank.graph.imm`, `detect_communities` from `karmabank.graph.communities`) is exported
here lazily, so that code needing only `reach` does not import it (nor igraph's community
code and scipy's graph search, which the communities use).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from karmabank.graph.communities import detect_communities
    from karmabank.graph.imm import InfluencePlan, maximize_influence

__all__ = ["InfluencePlan", "detect_communities", "maximize_influence"]


def __getattr__(name: str) -> Any:
    if name == "detect_communities":
        from karmabank.graph import communities

        return communities.detect_communities
    if name in __all__:
        from karmabank.graph import imm

        return getattr(imm, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
