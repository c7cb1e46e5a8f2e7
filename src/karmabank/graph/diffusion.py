"""The diffusion graph of a campaign (PRODUCT.md §5), pure: who would pass an ask on to whom.

A peer activity "v replied to / shared / mentioned u" means u's messages reach v, so it gives
the edge u → v. Its probability under the independent-cascade model is the *weighted cascade*
learned from observed frequencies: the share of v's peer activity that goes to u,
`w(u, v) / Σ_x w(x, v)` (with every weight 1 this is the classic `1 / indeg(v)`). So the
probabilities into any person add up to 1: the more voices someone listens to, the less any one
of them moves them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from karmabank.graph.ids import dense_ids
from karmabank.graph.search import csr, reached


@dataclass(frozen=True)
class DiffusionGraph:
    """Edges over dense node numbers 0..n-1; `people[i]` is node i's person id."""

    people: npt.NDArray[np.int64]
    src: npt.NDArray[np.int64]
    dst: npt.NDArray[np.int64]
    prob: npt.NDArray[np.float64]

    @property
    def n(self) -> int:
        return len(self.people)

    def nodes_of(self, person_ids: npt.ArrayLike) -> npt.NDArray[np.int64]:
        """Node numbers of `person_ids` (each must be in `people`)."""
        ids = np.asarray(person_ids, dtype=np.int64)
        pos = np.searchsorted(self.people, ids)
        if len(ids) and (pos.max(initial=0) >= len(self.people) or (self.people[pos] != ids).any()):
            raise ValueError("a person is not in the diffusion graph")
        return pos.astype(np.int64)

    def within_reach(self, sources: npt.ArrayLike) -> DiffusionGraph:
        """The part of the graph that nodes `sources` can reach. Only it can ever be activated
        from them, so planning on it gives the same expected reach, with far fewer samples
        wasted on people no candidate could touch."""
        live = self.prob > 0
        indptr, indices = csr(self.src[live], self.dst[live], self.n)
        keep = reached(indptr, indices, np.asarray(sources, dtype=np.int64))
        renumber = np.cumsum(keep) - 1
        inside = keep[self.src] & keep[self.dst]
        return DiffusionGraph(
            self.people[keep],
            renumber[self.src[inside]].astype(np.int64),
            renumber[self.dst[inside]].astype(np.int64),
            self.prob[inside],
        )


def diffusion_graph(peer: pa.Table, also: npt.ArrayLike = ()) -> DiffusionGraph:
    """The graph of `peer` activities (columns src = the actor, dst = whom they answered,
    shared or mentioned, weight), over those people plus `also` (e.g. people with no peer
    activity who may still be asked). Self-loops are dropped; parallel edges are merged."""
    actor = _int64(peer.column("src"))
    target = _int64(peer.column("dst"))
    weight = np.asarray(peer.column("weight").to_numpy(zero_copy_only=False), dtype=np.float64)
    keep = (actor != target) & (weight > 0)
    actor, target, weight = actor[keep], target[keep], weight[keep]
    m = actor.size
    # person ids are compact (1..N): numbered through a presence table, not a sort or a hash
    people, index = dense_ids(np.concatenate([actor, target, np.asarray(also, dtype=np.int64)]))
    u = index[m : 2 * m]  # the one whose message travels
    v = index[:m]  # the one it reaches
    n = len(people)
    pair = u * n + v
    order = np.argsort(pair, kind="stable")
    ordered = pair[order]
    starts = np.ones(m, dtype=bool)
    starts[1:] = ordered[1:] != ordered[:-1]
    merged = ordered[starts]
    w = np.add.reduceat(weight[order], np.flatnonzero(starts)) if m else np.zeros(0)
    src, dst = merged // n, merged % n
    into = np.bincount(dst, weights=w, minlength=n)
    return DiffusionGraph(people, src.astype(np.int64), dst.astype(np.int64), w / into[dst])


def _int64(column: pa.ChunkedArray | pa.Array) -> npt.NDArray[np.int64]:
    return np.asarray(column.to_numpy(zero_copy_only=False), dtype=np.int64)
