"""The organization's issues: the causes and topics it cares about, with their keywords."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from karmabank.actions.organization import write_audit
from karmabank.errors import ConfigError
from karmabank.store.open import Store
from karmabank.store.tables import Issue


@dataclass(frozen=True)
class IssueView:
    id: int
    name: str
    keywords: tuple[str, ...]
    description: str

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "name": self.name, "keywords": list(self.keywords),
            "description": self.description,
        }  # fmt: skip


def _view(issue: Issue) -> IssueView:
    return IssueView(issue.id, issue.name, tuple(json.loads(issue.keywords)), issue.description)


def clean_keywords(words: Sequence[str]) -> tuple[str, ...]:
    """Lower-cased, trimmed, without repeats, in the order given; commas and spaces split words
    too (`--keywords "river cleanup"` is two keywords, like `-k river -k cleanup`)."""
    out: list[str] = []
    for word in words:
        for part in word.replace(",", " ").split():
            w = part.strip().lower()
            if w and w not in out:
                out.append(w)
    return tuple(out)


def add_issue(
    *, store: Store, name: str, keywords: Sequence[str], description: str = "", now: datetime,
    actor: str = "cli",
) -> IssueView:  # fmt: skip
    name = name.strip()
    if not name:
        raise ConfigError("an issue needs a name")
    words = clean_keywords(keywords)
    if not words:
        raise ConfigError(f"issue {name!r} needs at least one keyword (--keywords river cleanup)")
    with store.sessions.begin() as session:
        taken = session.scalar(select(Issue.id).where(func.lower(Issue.name) == name.lower()))
        if taken is not None:
            raise ConfigError(f"there is already an issue named {name!r} (id {taken})")
        issue = Issue(
            name=name, description=description.strip(), keywords=json.dumps(list(words)),
            created_at=now,
        )  # fmt: skip
        session.add(issue)
        session.flush()
        write_audit(
            session, now=now, actor=actor, action="issue", subject=f"issue:{issue.id}",
            details={"name": name, "keywords": list(words)},
        )  # fmt: skip
        return _view(issue)


def list_issues(*, store: Store) -> list[IssueView]:
    with store.sessions() as session:
        return [_view(i) for i in session.scalars(select(Issue).order_by(Issue.id))]


def find_issue(*, store: Store, ref: str) -> IssueView:
    """An issue by id or (case-insensitive) name."""
    for issue in list_issues(store=store):
        if ref.strip().isdigit() and issue.id == int(ref) or issue.name.lower() == ref.lower():
            return issue
    raise ConfigError(f"no issue {ref!r} (see `karmabank issue list`)")
