"""The dashboard's tables as CSV, the same columns from the page's CSV link and the CLI's
`--csv`: people (`people`), influencers (`influencers`) and a campaign's asks (`campaign
show`). People are named as everywhere (`identities.display_name`); every cell goes through
`person_export.csv_cell`, so imported text a spreadsheet would run as a formula is neutralized."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from karmabank.actions.person_export import csv_cell
from karmabank.identities import display_name

if TYPE_CHECKING:
    from karmabank.actions.influencers import Influencers
    from karmabank.actions.listing import ListedPerson

PEOPLE = ("id", "name", "identities", "circle", "status", "stage", "warmth", "balance", "flags")
INFLUENCERS = ("rank", "id", "name", "identities", "influence", "warmth_pct", "reach_pct",
               "affinity", "issue", "why")  # fmt: skip
ASKS = ("position", "id", "name", "identities", "status", "response", "likelihood",
        "marginal_reach", "sent_at", "acted_at", "thanked_at")  # fmt: skip


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """The header line, then one line per row (`\\r\\n`-ended, as RFC 4180 has it)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    yield _take(buffer)
    for r in rows:
        writer.writerow([csv_cell(v) for v in r])
        yield _take(buffer)


def _take(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def _who(person: dict[str, Any]) -> tuple[Any, ...]:
    return (person["id"], display_name(person["name"], person["identities"], person["id"]),
            " ".join(person["identities"]))  # fmt: skip


def people_rows(people: Iterable[ListedPerson]) -> Iterator[tuple[Any, ...]]:
    for p in people:
        yield (p.id, p.shown, " ".join(p.identities), p.circle, p.status, p.stage,
               None if p.warmth is None else round(p.warmth, 3), p.balance,
               " ".join(p.flags))  # fmt: skip


def influencer_rows(found: Influencers) -> Iterator[tuple[Any, ...]]:
    for rank, r in enumerate(found.rows, 1):
        yield (rank, *_who(r["person"]), r["influence"], r["warmth_pct"], r["reach_pct"],
               "unknown" if r["affinity"] is None else r["affinity"], r["issue"],
               r["why"])  # fmt: skip


def ask_rows(asks: Iterable[dict[str, Any]]) -> Iterator[tuple[Any, ...]]:
    for a in asks:
        yield (a["position"], *_who(a["person"]), a["status"], a["response"], a["likelihood"],
               a["marginal_reach"], a["sent_at"], a["acted_at"], a["thanked_at"])  # fmt: skip
