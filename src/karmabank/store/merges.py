"""The tables of identity resolution (issue 15): merges, pairs never to merge, and the
suggestions the matcher writes: models on `tables.Base`'s metadata (kept apart, `tables.py` is
full), registered by importing this module (`migrations/env.py` does); migration 0010.

Person ids here are plain integers, not foreign keys, on purpose: a merge removes the absorbed
person's row (everything of theirs now belongs to the kept person) and `unmerge` puts it back
with the same id, so a merge, a pair or a suggestion must outlive the row it names (a kept
person may be absorbed by a later merge). Pairs are stored ordered (`person_a < person_b`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from karmabank.store.tables import Base


class MergeSuggestion(Base):
    """Two persons who may be one (written by the matcher, `actions/merge_suggestions.py`):
    `confidence` is a probability 0-1, `evidence` a JSON object field by field (what agreed or
    disagreed and how much each moved the confidence), `action` `auto` or `review`, `status`
    `open`, `merged` (by the merge that names it), `rejected` (`merge never`) or `stale` (the
    matcher's last run no longer found it: not listed, open again when a run or a source finds
    it; `actions/merge_suggestions.py`). `source` is the JSON of the imported row that linked
    them, when a source stated it (the `also` column)."""

    __tablename__ = "merge_suggestion"
    __table_args__ = (
        UniqueConstraint("person_a", "person_b"),
        CheckConstraint("person_a < person_b", name="ordered"),
        Index("ix_merge_suggestion_status_confidence", "status", "confidence"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_a: Mapped[int] = mapped_column(Integer)
    person_b: Mapped[int] = mapped_column(Integer, index=True)
    confidence: Mapped[float] = mapped_column(Float)
    evidence: Mapped[str] = mapped_column(default="{}")  # JSON object
    action: Mapped[str] = mapped_column(String(8))  # auto | review
    status: Mapped[str] = mapped_column(String(16), default="open")  # open|merged|rejected|stale
    created_at: Mapped[datetime]
    source: Mapped[str | None]  # JSON: the row that stated both identities, if any


class Merge(Base):
    """One merge: `absorbed_id`'s identities, activities, asks, suggestions and flags went to
    `kept_id`. `decided_by` is a user's email, `auto` or `source`. `moved` (JSON) records exactly
    what changed, so `unmerge` restores each person as they were: the absorbed person's row,
    the ids of the rows moved per table and column, the rows removed (a duplicate ask, a score)
    and the kept person's row and score before. `undone_at` is set by `unmerge`."""

    __tablename__ = "merge"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kept_id: Mapped[int] = mapped_column(Integer, index=True)
    absorbed_id: Mapped[int] = mapped_column(Integer, index=True)
    decided_at: Mapped[datetime]
    decided_by: Mapped[str] = mapped_column(String(254))
    why: Mapped[str | None]
    confidence: Mapped[float | None] = mapped_column(Float)
    evidence: Mapped[str] = mapped_column(default="{}")  # JSON object
    suggestion_id: Mapped[int | None] = mapped_column(ForeignKey("merge_suggestion.id"))
    moved: Mapped[str] = mapped_column(default="{}")  # JSON object: what unmerge restores
    undone_at: Mapped[datetime | None]
    undone_by: Mapped[str | None] = mapped_column(String(254))


class MergeNever(Base):
    """A pair a person said are not the same (`merge never`): never merged, never suggested."""

    __tablename__ = "merge_never"
    __table_args__ = (CheckConstraint("person_a < person_b", name="ordered"),)
    person_a: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_b: Mapped[int] = mapped_column(Integer, primary_key=True)
    decided_at: Mapped[datetime]
    decided_by: Mapped[str] = mapped_column(String(254))
    why: Mapped[str | None]
