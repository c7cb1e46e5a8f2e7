"""The names each identity was seen with (issue 15 item 6): a model on `tables.Base`'s metadata
(kept apart, `tables.py` is full), registered by importing this module (`migrations/env.py`
does); migration 0012.

A person keeps one name (`person.name`: the last one an import saw, or one typed by hand); an
identity keeps every distinct name (by `name_key`) it was seen with, up to
`MAX_NAMES_PER_IDENTITY`, so one email signed "Jane Doe", "John Doe" and "Fred Bloggs" (a
family's shared mailbox) can be listed as possibly several people (`merge shared`). The rows
follow their identity: a merge moves the identity (its id kept), so its names go with it.
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from karmabank.store.tables import Base

MAX_NAMES_PER_IDENTITY = 8  # a shared mailbox shows with two or three; more adds nothing


class IdentityName(Base):
    """One distinct name (by `name_key`, as first written) an identity was seen with."""

    __tablename__ = "identity_name"
    identity_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("identity.id", ondelete="CASCADE"), primary_key=True
    )
    name_key: Mapped[str] = mapped_column(primary_key=True)
    name: Mapped[str]
