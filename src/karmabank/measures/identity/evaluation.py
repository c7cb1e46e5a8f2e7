"""How well pairs found match the truth: pairwise precision and recall, pair by pair and after
the merges they imply (pure; `bench/identity_bench.py` and the tests use it).

A merge of A with B and of B with C makes A, B and C one person, so what `merge auto` does is
measured on the transitive closure of the pairs it accepts: every pair inside a merged group
counts, right or wrong.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

Pair = tuple[int, int]


@dataclass(frozen=True)
class Quality:
    pairs: int  # pairs claimed (after the closure, when measured so)
    precision: float  # of those, the share that are one person (1.0 when none is claimed)
    recall: float  # of the true pairs, the share claimed

    def as_json(self) -> dict[str, object]:
        return {"pairs": self.pairs, "precision": round(self.precision, 4),
                "recall": round(self.recall, 4)}  # fmt: skip


def closure(pairs: Iterable[Pair]) -> set[Pair]:
    """Every pair (lower id first) inside the groups the pairs join."""
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        parent[find(a)] = find(b)
    groups: dict[int, list[int]] = {}
    for x in list(parent):
        groups.setdefault(find(x), []).append(x)
    return {
        (min(a, b), max(a, b)) for g in groups.values() for i, a in enumerate(g) for b in g[i + 1 :]
    }


def quality(pairs: Iterable[Pair], truth: set[Pair], *, merged: bool = True) -> Quality:
    """Precision and recall of `pairs` against the true pairs (closed under merging if
    `merged`)."""
    claimed = closure(pairs) if merged else {(min(a, b), max(a, b)) for a, b in pairs}
    right = len(claimed & truth)
    return Quality(len(claimed), right / len(claimed) if claimed else 1.0,
                   right / len(truth) if truth else 1.0)  # fmt: skip
