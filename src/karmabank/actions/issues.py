"""The organization's issues: the causes and topics it cares about, with their keywords."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from karmabank.actions.organization import write_audit
from karmabank.errors import ConfigError, NotFoundError
from karmabank.names import is_text, name_key
from karmabank.store.open import Store
from karmabank.store.tables import Issue, stored_id


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
    if not is_text(name) or not all(is_text(k) for k in keywords):
        raise ConfigError(f"issue {name!r}: the name and keywords must be valid Unicode text")
    words = clean_keywords(keywords)
    if not words:
        raise ConfigError(f"issue {name!r} needs at least one keyword (keywords: river cleanup)")
    with store.sessions.begin() as session:
        taken = session.scalar(
            select(Issue.id).where(Issue.name_key == name_key(name)).order_by(Issue.id).limit(1)
        )
        if taken is not None:
            raise ConfigError(f"an issue named {name!r} already exists (id {taken})")
        issue = Issue(
            name=name, description=description.strip(), keywords=json.dumps(list(words)),
            created_at=now,
        )  # fmt: skip
        session.add(issue)
        try:
            session.flush()
        except IntegrityError:  # added by someone else since the check above
            raise ConfigError(f"an issue named {name!r} already exists") from None
        write_audit(
            session, now=now, actor=actor, action="issue", subject=f"issue:{issue.id}",
            details={"name": name, "keywords": list(words)},
        )  # fmt: skip
        return _view(issue)


def list_issues(*, store: Store) -> list[IssueView]:
    with store.sessions() as session:
        return [_view(i) for i in session.scalars(select(Issue).order_by(Issue.id))]


def find_issue(*, store: Store, ref: str) -> IssueView:
    """An issue by id or name, in any case (`karmabank.names`)."""
    r = ref.strip()
    if not is_text(r):
        raise ConfigError(f"{r!r} is not valid Unicode text")
    by_id = stored_id(r) if r.isascii() and r.isdigit() else None
    with store.sessions() as session:
        found = session.get(Issue, by_id) if by_id is not None else None
        if found is None:
            found = session.scalar(
                select(Issue).where(Issue.name_key == name_key(r)).order_by(Issue.id).limit(1)
            )
        if found is not None:
            return _view(found)
    raise ConfigError(f"no issue {ref!r} (see `karmabank issue list`)")


def set_keywords(
    *, store: Store, ref: str, keywords: Sequence[str], now: datetime, actor: str = "cli"
) -> IssueView:
    """Replace an issue's keywords (by id or name), audited, in one transaction."""
    if not all(is_text(k) for k in keywords):
        raise ConfigError("keywords must be valid Unicode text")
    words = clean_keywords(keywords)
    issue_id = find_issue(store=store, ref=ref).id
    if not words:
        raise ConfigError(f"issue {ref.strip()!r} needs at least one keyword")
    with store.sessions.begin() as session:
        issue = session.get(Issue, issue_id)
        if issue is None:
            raise NotFoundError(f"no issue {ref.strip()!r}")
        issue.keywords = json.dumps(list(words))
        write_audit(
            session, now=now, actor=actor, action="issue keywords", subject=f"issue:{issue.id}",
            details={"keywords": list(words)},
        )  # fmt: skip
        return _view(issue)
