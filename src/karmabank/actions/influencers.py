"""Influencers who care: warmth × reach × affinity per issue, with the parts (PRODUCT.md §3).

Computed on demand from the stored warmth (rescored first when stale), the peer graph of the
columnar copy (PageRank and k-core, `graph.reach`), platform follower counts, and BM25 between
each person's texts and each issue (`measures.affinity`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pyarrow as pa

from karmabank.actions.freshness import ensure_scores
from karmabank.actions.issues import IssueView, find_issue, list_issues
from karmabank.frames import engine, micros
from karmabank.graph.reach import reach
from karmabank.measures.affinity import IssueText, affinity, fallback_note
from karmabank.measures.influence import influence, shown_percent
from karmabank.measures.peer_graph import peer_edges
from karmabank.measures.settings import MeasureSettings
from karmabank.store import arrow_io
from karmabank.store.open import Store

__all__ = ["Influencers", "find_influencers", "shown_percent"]
_SCORES = pa.schema([("person_id", pa.int64()), ("warmth", pa.float64()), ("circle", pa.string())])
_FOLLOWERS = pa.schema([("person_id", pa.int64()), ("followers", pa.int64())])
_TEXTS = pa.schema([("person_id", pa.int64()), ("text", pa.string())])


@dataclass(frozen=True)
class Influencers:
    issue: IssueView | None
    rows: list[dict[str, Any]]  # JSON-ready, best first
    affinity_known: bool  # False: nobody has texts (e.g. a pure edge list)
    seconds: dict[str, float]
    note: str | None = None  # e.g. the semantic method fell back to BM25, and why


def find_influencers(
    *, store: Store, now: datetime, settings: MeasureSettings, issue: str | None = None,
    limit: int = 20,
) -> Influencers:  # fmt: skip
    """The people with warmth, reach and affinity for `issue` (or for any issue: each person's
    best), most influential first."""
    times: dict[str, float] = {}
    t = time.perf_counter()
    snapshot = ensure_scores(store=store, now=now, settings=settings).snapshot(store)
    chosen = [find_issue(store=store, ref=issue)] if issue else list_issues(store=store)
    source = snapshot.activities()
    kept = snapshot.table(_SCORES)
    with arrow_io.connect(store.url, store.engine) as conn:
        scores = kept if kept is not None else arrow_io.read_table(conn, "person_score", _SCORES)
        followers = arrow_io.read_table(
            conn,
            "(SELECT id AS person_id, followers FROM person WHERE followers IS NOT NULL) f",
            _FOLLOWERS,
        )
        texts = (  # no issue, nothing to read texts for
            arrow_io.read_table(
                conn,
                f"""(SELECT person_id, text FROM activity WHERE text IS NOT NULL
                    AND direction IN ('in', 'peer') AND occurred_at <= {micros(now)}) x""",
                _TEXTS,
            )
            if chosen
            else _TEXTS.empty_table()
        )
    times["read"] = time.perf_counter() - t
    t = time.perf_counter()
    reached = reach(
        peer_edges(source, now), people=scores.column("person_id").combine_chunks(),
        followers=followers,
    )  # fmt: skip
    times["reach"] = time.perf_counter() - t
    t = time.perf_counter()
    issue_texts = [IssueText(i.id, i.name, i.keywords, i.description) for i in chosen]
    known = texts.num_rows > 0 and bool(issue_texts)
    aff = affinity(texts, issue_texts, settings.affinity) if known else None
    note = fallback_note(aff) if aff is not None else None
    times["affinity"] = time.perf_counter() - t
    t = time.perf_counter()
    table = influence(scores, reached, aff, [i.id for i in chosen], top=limit)
    times["influence"] = time.perf_counter() - t
    rows = _best(table, reached, limit)
    _add_people(store, rows)
    names = {i.id: i.name for i in chosen}
    for r in rows:
        r["issue"] = names.get(r.pop("issue_id")) if r.get("issue_id") is not None else None
    return Influencers(chosen[0] if issue else None, rows, known, times, note)


def _best(table: pa.Table, reached: pa.Table, limit: int) -> list[dict[str, Any]]:
    """Each person's most influential row, best first, with their reach parts."""
    con = engine()
    try:
        con.register("inf", table)
        con.register("reach", reached)
        rows: list[dict[str, Any]] = (
            con.sql(
                f"""SELECT i.person_id, i.issue_id, i.influence, i.warmth_pct, i.reach_pct,
                   i.affinity, i.affinity_known, i.terms, i.why, r.pagerank, r.core,
                   r.followers
            FROM (SELECT *, row_number() OVER (PARTITION BY person_id
                      ORDER BY affinity_known DESC, influence DESC, issue_id) AS k
                  FROM inf) i LEFT JOIN reach r USING (person_id)
            WHERE i.k = 1
            ORDER BY i.affinity_known DESC, i.influence DESC, i.person_id LIMIT {int(limit)}"""
            )
            .to_arrow_table()
            .to_pylist()
        )
        return rows
    finally:
        con.close()


def _add_people(store: Store, rows: list[dict[str, Any]]) -> None:
    from karmabank.actions.people import person_refs

    refs = person_refs(store, [r["person_id"] for r in rows])
    for r in rows:
        r["person"] = refs[r.pop("person_id")]
        r["reach"] = {"pagerank": r.pop("pagerank"), "core": r.pop("core"),
                      "followers": r.pop("followers")}  # fmt: skip
