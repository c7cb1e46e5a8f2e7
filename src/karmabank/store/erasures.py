"""Erasure's tombstones (issue 18): the salted hashes of an erased person's identities, so no
later import or sync re-creates them. A model on `tables.Base`'s metadata (kept apart,
`tables.py` is full), registered by importing this module (`migrations/env.py` does);
migration 0014.

A tombstone holds `HMAC-SHA256(salt, "platform:key")` and the id of the erased person's row (an
empty row kept, `erased`, so campaigns' ask counts stay true): never the identity itself. The
salt is 32 random bytes in the organization's row (`erasure_salt`), made by the first erasure,
so a backup carries it with the tombstones it opens; without it nobody can tell from a copy of
this table which identities were erased, short of guessing each one.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import Connection, Integer, String, select
from sqlalchemy.orm import Mapped, mapped_column

from karmabank.model import IdentityKey
from karmabank.store.tables import Base, Organization

_CHUNK = 1_000
SKIP_REASON = "erased"  # an erased person's row in an import report: `skipped N: erased`
_EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")  # in a raw row: an email or a handle


class ErasedIdentity(Base):
    """One identity of an erased person, as its salted hash."""

    __tablename__ = "erased_identity"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    person_id: Mapped[int] = mapped_column(Integer, index=True)  # the erased (empty) row
    erased_at: Mapped[datetime]


def identity_hash(salt: str, key: IdentityKey) -> str:
    """The tombstone of `key`: hex HMAC-SHA256 under the organization's salt."""
    message = f"{key.platform}:{key.key}".encode()
    return hmac.new(bytes.fromhex(salt), message, hashlib.sha256).hexdigest()


def erasure_salt(conn: Connection) -> str | None:
    """The organization's salt, None until a first erasure made it (then nothing is erased)."""
    return conn.scalar(select(Organization.erasure_salt).order_by(Organization.id).limit(1))


def erased_owners(
    conn: Connection, keys: Iterable[IdentityKey]
) -> dict[IdentityKey, tuple[int, bool]]:
    """The identities among `keys` that belong to an erased person -> (that row's id, True),
    the shape `BulkWriter.lookup` gives; {} when nobody was ever erased (no hashing)."""
    wanted = list(keys)
    salt = erasure_salt(conn) if wanted else None
    if salt is None:
        return {}
    hashes = {identity_hash(salt, k): k for k in wanted}
    found: dict[IdentityKey, tuple[int, bool]] = {}
    digests = list(hashes)
    for start in range(0, len(digests), _CHUNK):
        rows = conn.execute(
            select(ErasedIdentity.key_hash, ErasedIdentity.person_id).where(
                ErasedIdentity.key_hash.in_(digests[start : start + _CHUNK])
            )
        )
        for digest, pid in rows:
            found[hashes[digest]] = (int(pid), True)
    return found


def erased_mentions(conn: Connection, texts: Sequence[str]) -> set[int]:
    """The indexes of `texts` (bad rows' raw text, which no source could parse) holding the
    email or Mastodon handle of an erased person: such a row is not kept in quarantine."""
    salt = erasure_salt(conn) if texts else None
    if salt is None:
        return set()
    where: dict[str, set[int]] = {}
    for i, t in enumerate(texts):
        for m in _EMAIL.finditer(t):
            found = m.group(0).lower()
            for key in (IdentityKey("email", found), IdentityKey("mastodon", f"@{found}")):
                where.setdefault(identity_hash(salt, key), set()).add(i)
    out: set[int] = set()
    digests = list(where)
    for start in range(0, len(digests), _CHUNK):
        for digest in conn.scalars(select(ErasedIdentity.key_hash).where(
                ErasedIdentity.key_hash.in_(digests[start : start + _CHUNK]))):  # fmt: skip
            out |= where[digest]
    return out
