"""The organization's own content and people's per-channel opt-outs (issue 16): models on
`tables.Base`'s metadata (kept apart, `tables.py` is full), registered by importing this module
(`migrations/env.py` does); migration 0011."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from karmabank.store.tables import Base


class OrgContent(Base):
    """A piece of the organization's own content (a post, a page, a status) an import found:
    not a supporter's activity. `source_key` is the platform's own id (re-imports find it),
    `object` its URL (or id)."""

    __tablename__ = "org_content"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_key: Mapped[str] = mapped_column(unique=True)
    occurred_at: Mapped[datetime]
    channel: Mapped[str] = mapped_column(String(32))
    object: Mapped[str]
    title: Mapped[str | None]
    text: Mapped[str | None]
    import_run_id: Mapped[int | None] = mapped_column(ForeignKey("import_run.id"))


class OptOut(Base):
    """A person opted out of being contacted on one channel (`karmabank optout`, or an import
    that says so: a Mailchimp unsubscribed file). `do_not_contact` stays the all-channel
    switch. `source` is `cli`, a user's email or `import_run:N`."""

    __tablename__ = "opt_out"
    __table_args__ = (UniqueConstraint("person_id", "channel"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    channel: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(254))
