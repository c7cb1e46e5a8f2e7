"""Connections (issue 17): the organization's accounts whose platform APIs `karmabank sync`
polls. A model on `tables.Base`'s metadata (kept apart, `tables.py` is full), registered by
importing this module (`migrations/env.py` does); migration 0013.

A row holds what a sync needs to resume and nothing it must not keep: the platform, the
connection's name, the base URL (a Mastodon instance, a Bluesky service), the account's identity
as the platform confirmed it, the *name* of the environment variable (or secrets-file key) that
holds the secret, the connector's opaque cursor, and the last sync's time and one-line result.
The secret itself is never stored.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from karmabank.store.tables import Base


class Connection(Base):
    """One connected account on a platform (`karmabank connect`)."""

    __tablename__ = "connection"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(unique=True)
    base_url: Mapped[str]
    identity_key: Mapped[str]  # "@org@host" or a DID, as `check` confirmed it
    account_name: Mapped[str | None]  # display name or handle, a label only
    secret_env: Mapped[str] = mapped_column(String(128))  # the variable's name, never its value
    options: Mapped[str] = mapped_column(default="{}")  # JSON object: e.g. Bluesky's handle
    cursor: Mapped[str | None]
    created_at: Mapped[datetime]
    last_sync_at: Mapped[datetime | None]
    last_result: Mapped[str | None]  # one line: "12 imported, 0 duplicates" or the error
    last_import_run_id: Mapped[int | None] = mapped_column(ForeignKey("import_run.id"))
