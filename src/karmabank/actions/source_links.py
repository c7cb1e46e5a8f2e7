"""Identities a source states for one person (`ParsedRow.also`): attached, or suggested.

An importer may say that a row's person also holds other identities (a CSV `also` column, a
blog comment's email and website, a profile's links). Within one batch of an import, in the
batch's own transaction (`actions/import_batches.py`), rows are taken in file order as if
stored one by one, so the outcome does not depend on the batch size:

- an `also` identity nobody holds yet is given to the row's person (a new identity row);
- one the row's person already holds changes nothing, nor one of the organization's;
- one another person holds is never joined silently: the pair becomes an open merge
  suggestion with this row as its evidence (`SOURCE_CONFIDENCE`, action `review`: one row's
  word, and a person decides whether two histories are one), unless the pair may never be
  merged (a bot and a human, a team member and someone else, an erased person, a pair marked
  `merge never`, also through earlier merges) or was already decided (merged, rejected). An
  open suggestion of the matcher for the pair gets the source's evidence and `source` added
  and keeps the higher confidence and its action. A re-run changes nothing.
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, text

from karmabank.measures.identity.features import ONE_PER_PERSON
from karmabank.model import IdentityKey, from_micros
from karmabank.sources.base import ParsedRow

SOURCE_CONFIDENCE = 0.99  # a source stating two identities are one person's
SOURCE_ACTION = "review"
SOURCE_LEVEL = "the source linked them"

Owner = int | IdentityKey  # a person's id, or the first key of a person this batch creates


@dataclass(frozen=True, slots=True)
class StatedLink:
    """A row saying `key` is also its person's while another person holds it."""

    row: ParsedRow
    key: IdentityKey
    mine: Owner
    theirs: Owner


@dataclass(slots=True)
class OwnerPlan:
    """Who holds each identity of a batch once its rows are taken in order: the keys that
    become new persons (in order), the `also` keys given to a person, the links to suggest."""

    new: list[IdentityKey] = field(default_factory=list)
    attached: dict[IdentityKey, Owner] = field(default_factory=dict)
    links: list[StatedLink] = field(default_factory=list)


def plan_owners(
    rows: Sequence[ParsedRow], known: Mapping[IdentityKey, tuple[int, bool]],
    organization: Collection[IdentityKey] = (),
) -> OwnerPlan:  # fmt: skip
    """The plan for `rows`, given the identities already held (`known`: key -> (person id,
    erased)). Nothing is given to an erased person, nor suggested with one; an identity of
    the organization's (`organization`: a commenter's website that is the site itself) is
    nobody's to be given and links no one."""
    plan = OwnerPlan()
    owner: dict[IdentityKey, Owner] = {}
    erased: set[int] = set()

    def owner_of(key: IdentityKey) -> Owner:
        found = owner.get(key)
        if found is None:
            held = known.get(key)
            if held is None:
                found = key
                plan.new.append(key)
            else:
                found = held[0]
                if held[1]:
                    erased.add(found)
            owner[key] = found
        return found

    for r in rows:
        mine = owner_of(r.person)
        if r.target is not None:
            owner_of(r.target)
        if not r.also or mine in erased:
            continue
        for key in r.also:
            if key in organization:
                continue
            if key not in owner and key not in known:
                owner[key] = plan.attached[key] = mine
                continue
            theirs = owner_of(key)
            if theirs != mine and theirs not in erased:
                plan.links.append(StatedLink(r, key, mine, theirs))
    return plan


def row_source(row: ParsedRow, file: str) -> dict[str, object]:
    """The row as a suggestion's `source` keeps it (JSON)."""
    return {
        "file": file, "line": row.line, "source_key": row.source_key,
        "occurred_at": from_micros(row.occurred_at).isoformat(), "person": str(row.person),
        "name": row.name, "verb": row.verb, "direction": row.direction, "channel": row.channel,
        "also": [str(k) for k in row.also],
    }  # fmt: skip


def store_links(
    conn: Connection, links: Sequence[tuple[int, int, StatedLink]], *, file: str, now_us: int
) -> int:
    """Write the stated links between persons (`(a, b, link)`, ids resolved) as open merge
    suggestions in the caller's transaction; returns how many suggestions were added or given
    a source. The first row that links a pair is its evidence."""
    pairs: dict[tuple[int, int], StatedLink] = {}
    for a, b, link in links:
        if a != b:
            pairs.setdefault((min(a, b), max(a, b)), link)
    if not pairs:
        return 0
    ids = sorted({p for pair in pairs for p in pair})
    flags = _flags(conn, ids)
    platforms = _platforms(conn, ids)
    written = 0
    for (a, b), link in pairs.items():
        if a not in flags or b not in flags or not _may_merge(flags[a], flags[b]):
            continue
        if _never(conn, a, b):
            continue
        shared = sorted((platforms.get(a, set()) & platforms.get(b, set())) & ONE_PER_PERSON)
        written += _write(conn, a, b, link, file=file, now_us=now_us,
                          same_platform=shared[0] if shared else None)  # fmt: skip
    return written


def _evidence(link: StatedLink, file: str, same_platform: str | None) -> dict[str, Any]:
    weight = round(math.log2(SOURCE_CONFIDENCE / (1 - SOURCE_CONFIDENCE)), 3)
    return {
        "fields": [{"field": "source", "level": SOURCE_LEVEL, "weight": weight}],
        "match_weight": weight,
        "same_platform": same_platform,
        "source": {"file": file, "line": link.row.line,
                   "identities": [str(link.row.person), str(link.key)]},
    }  # fmt: skip


def _write(
    conn: Connection, a: int, b: int, link: StatedLink, *, file: str, now_us: int,
    same_platform: str | None,
) -> int:  # fmt: skip
    found = conn.execute(
        text(
            "SELECT id, status, confidence, evidence, source FROM merge_suggestion"
            " WHERE person_a = :a AND person_b = :b"
        ),
        {"a": a, "b": b},
    ).first()
    evidence = _evidence(link, file, same_platform)
    source = json.dumps(row_source(link.row, file))
    if found is None:
        conn.execute(
            text(
                "INSERT INTO merge_suggestion (person_a, person_b, confidence, evidence, action,"
                " status, created_at, source) VALUES (:a, :b, :c, :e, :action, 'open', :at, :s)"
            ),
            {"a": a, "b": b, "c": SOURCE_CONFIDENCE, "e": json.dumps(evidence),
             "action": SOURCE_ACTION, "at": now_us, "s": source},
        )  # fmt: skip
        return 1
    sid, status, confidence, stored, had_source = found
    if status not in ("open", "stale") or had_source is not None:
        return 0  # decided already, or a source's word is there already: a re-run
    matcher = json.loads(stored)
    matcher["fields"] = [*matcher.get("fields", []), *evidence["fields"]]
    matcher["source"] = evidence["source"]
    conn.execute(
        text(
            "UPDATE merge_suggestion SET confidence = :c, evidence = :e, source = :s,"
            " status = 'open' WHERE id = :id"
        ),
        {"c": max(float(confidence), SOURCE_CONFIDENCE), "e": json.dumps(matcher), "s": source,
         "id": sid},
    )  # fmt: skip
    return 1


def _flags(conn: Connection, ids: list[int]) -> dict[int, tuple[bool, bool, bool]]:
    """person id -> (bot, team, erased), for the persons there are."""
    out: dict[int, tuple[bool, bool, bool]] = {}
    for chunk in _chunks(ids):
        marks = ", ".join(f":p{i}" for i in range(len(chunk)))
        for pid, bot, team, erased in conn.execute(
            text(f"SELECT id, bot, team, erased FROM person WHERE id IN ({marks})"),
            {f"p{i}": p for i, p in enumerate(chunk)},
        ):
            out[int(pid)] = (bool(bot), bool(team), bool(erased))
    return out


def _platforms(conn: Connection, ids: list[int]) -> dict[int, set[str]]:
    out: dict[int, set[str]] = {}
    for chunk in _chunks(ids):
        marks = ", ".join(f":p{i}" for i in range(len(chunk)))
        for pid, platform in conn.execute(
            text(f"SELECT DISTINCT person_id, platform FROM identity WHERE person_id IN ({marks})"),
            {f"p{i}": p for i, p in enumerate(chunk)},
        ):
            out.setdefault(int(pid), set()).add(str(platform))
    return out


def _may_merge(x: tuple[bool, bool, bool], y: tuple[bool, bool, bool]) -> bool:
    return x[0] == y[0] and x[1] == y[1] and not x[2] and not y[2]


def _never(conn: Connection, a: int, b: int) -> bool:
    """Whether the pair, or anyone merged into either, is marked never to merge."""
    mine, theirs = _members(conn, a), _members(conn, b)
    ids = ", ".join(str(p) for p in sorted(mine | theirs))  # integers: no text from outside
    rows = conn.execute(
        text(f"SELECT person_a, person_b FROM merge_never WHERE person_a IN ({ids})"
             f" OR person_b IN ({ids})")
    ).all()  # fmt: skip
    return any((x in mine and y in theirs) or (x in theirs and y in mine) for x, y in rows)


def _members(conn: Connection, person: int) -> set[int]:
    """The person and everyone merged into them (active merges, nested too)."""
    found, frontier = {person}, [person]
    while frontier:
        inner = conn.execute(
            text(
                "SELECT absorbed_id FROM merge WHERE undone_at IS NULL AND kept_id IN ({})".format(
                    ", ".join(str(p) for p in frontier)
                )
            )
        ).scalars()
        frontier = [int(p) for p in inner if int(p) not in found]
        found.update(frontier)
    return found


def _chunks(ids: list[int], size: int = 500) -> list[list[int]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]
