"""What erasure does to the rows that are not the erased person's own but mention them: an
activity of someone else quoting their name, the organization's own post thanking them, an
audit entry's details, a quarantined row that held their email. Every text column of every
table is searched (one scan per table, every needle in one `OR` of case-insensitive `LIKE`s)
and each mention is replaced by `[erased]`; a quarantined row that mentions them is removed
whole (it is their raw data). Other people's own names and identities (`person`, `identity`,
`identity_name`) are never rewritten: a namesake keeps their name.

Needles are the person's identity keys (emails, URLs, handles) and names (their name, the
names their identities were seen with, identity labels), each also as JSON writes it (`\\u00e9`
for `é`), since the audit and merge columns hold JSON text. Names match as whole words;
needles shorter than `MIN_NEEDLE` characters are not searched (they would match everywhere).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Column, String, Table, Text, delete, or_, select, update
from sqlalchemy.orm import Session

from karmabank.store.tables import Base

MIN_NEEDLE = 3
ERASED = "[erased]"
# the tables whose text is the people's own names and identities, or secrets (never mentions)
UNTOUCHED = frozenset({
    "person", "identity", "identity_name", "erased_identity", "user_account", "api_token",
    "web_session", "alembic_version",
})  # fmt: skip
REMOVED_WHOLE = frozenset({"quarantine"})


@dataclass(frozen=True)
class Needles:
    """What to look for: identity keys (anywhere in a text) and names (as whole words)."""

    keys: tuple[str, ...]
    names: tuple[str, ...]

    @classmethod
    def of(cls, keys: Iterable[str], names: Iterable[str | None]) -> Needles:
        def forms(texts: Iterable[str | None]) -> tuple[str, ...]:
            out: dict[str, None] = {}
            for t in texts:
                if t and len(t.strip()) >= MIN_NEEDLE:
                    out[t.strip()] = None
                    out[json.dumps(t.strip())[1:-1]] = None  # as JSON text holds it
            return tuple(out)

        return cls(forms(keys), forms(names))

    @property
    def all(self) -> tuple[str, ...]:
        return (*self.keys, *self.names)

    def pattern(self) -> re.Pattern[str]:
        keys = [re.escape(k) for k in sorted(self.keys, key=len, reverse=True)]
        names = [rf"(?<!\w){re.escape(n)}(?!\w)" for n in sorted(self.names, key=len, reverse=True)]
        return re.compile("|".join([*keys, *names]), re.IGNORECASE)


def _text_columns(table: Table) -> list[Column[str]]:
    return [c for c in table.columns if isinstance(c.type, Text | String) and not c.primary_key]


def scrub_mentions(session: Session, needles: Needles) -> dict[str, int]:
    """Replace every mention of `needles` outside the person's own rows; per table, the number
    of rows rewritten (or removed, for quarantine)."""
    if not needles.all:
        return {}
    pattern = needles.pattern()
    counts: dict[str, int] = {}
    for table in Base.metadata.sorted_tables:
        if table.name in UNTOUCHED or not (columns := _text_columns(table)):
            continue
        if n := _scrub_table(session, table, columns, needles, pattern):
            counts[table.name] = n
    return counts


def _scrub_table(
    session: Session, table: Table, columns: list[Column[str]], needles: Needles,
    pattern: re.Pattern[str],
) -> int:  # fmt: skip
    keys = list(table.primary_key.columns)
    found = session.execute(
        select(*keys, *columns).where(
            or_(*(c.icontains(n, autoescape=True) for c in columns for n in needles.all))
        )
    ).all()
    changed = 0
    for row in found:
        where = [k == row._mapping[k.name] for k in keys]
        texts = {c.name: row._mapping[c.name] for c in columns}
        new = {k: pattern.sub(ERASED, v) for k, v in texts.items() if v is not None}
        if all(new[k] == texts[k] for k in new):
            continue  # a LIKE match that is no whole word (a name inside another word)
        if table.name in REMOVED_WHOLE:
            session.execute(delete(table).where(*where))
        else:
            session.execute(update(table).where(*where).values(new))
        changed += 1
    return changed
