"""The last rescore, as one value: the scores it left, their time, whether they answer for a
`now` and why, and the snapshot's token and files.

`LastRescore` is made in one place each way: by `rescore` from what it computed (`made`), and
from the `score_state` row it wrote (`read`); its `token` is the only place the snapshot's
token is formatted. The queue, the influencers, the planner, the backtest and the person page
take it from `ensure_scores` instead of reading `score_state` themselves.

Imports SQLAlchemy and the tables only, like `freshness` (a command reading fresh scores must
not load Arrow, DuckDB or NumPy: they took 0.4 s of every listing); the snapshot's files
(`store.columns`, Arrow) load in `snapshot`, when a caller reads them.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import func, select

from karmabank.measures.settings import MeasureSettings
from karmabank.model import from_micros, to_micros
from karmabank.store.open import Store
from karmabank.store.tables import Activity, Organization, ScoreState

if TYPE_CHECKING:
    from karmabank.store.columns import Snapshot

FRESH = "fresh"
NEVER_SCORED = "never scored"
DATA_CHANGED = "the data changed"
SETTINGS_CHANGED = "the settings changed"
OTHER_TIME = "scores are from another time"


class DataVersion(NamedTuple):
    """What the scores were computed over: the organization's data revision (flags, asks,
    people: anything the measures read) and the highest activity id."""

    revision: int
    activity_max_id: int


def data_version(store: Store) -> DataVersion:
    """The organization's data revision and the highest activity id, as they are now."""
    with store.sessions() as session:
        revision = session.scalar(select(Organization.revision).order_by(Organization.id).limit(1))
        max_id = session.scalar(select(func.coalesce(func.max(Activity.id), 0)))
    return DataVersion(int(revision or 0), int(max_id or 0))


def settings_digest(settings: MeasureSettings) -> str:
    blob = json.dumps(asdict(settings), sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


@dataclass(frozen=True)
class LastRescore:
    """The scores the last rescore left (`person_score`, and the snapshot beside the columnar
    copy), as `score_state` records them."""

    scored_at: int  # µs: the `now` the scores were computed for
    computed_at: int  # µs: the clock when the rescore ran (with `scored_at`, the token)
    revision: int  # the data they were computed over (`DataVersion`)
    activity_max_id: int
    settings_digest: str
    summary: str  # JSON: thresholds, share ratio, counts per circle/status/stage, set apart
    seconds: float  # reading and computing; the writes followed

    @classmethod
    def made(
        cls, *, now: datetime, clock: datetime, data: DataVersion, settings: MeasureSettings,
        summary: dict[str, Any], seconds: float,
    ) -> LastRescore:  # fmt: skip
        """What a rescore at `now` leaves, run at `clock` over `data` with `settings`."""
        return cls(
            scored_at=to_micros(now), computed_at=to_micros(clock), revision=data.revision,
            activity_max_id=data.activity_max_id, settings_digest=settings_digest(settings),
            summary=json.dumps(summary), seconds=seconds,
        )  # fmt: skip

    @classmethod
    def read(cls, store: Store) -> LastRescore | None:
        """The last rescore `score_state` records; None before the first."""
        with store.sessions() as session:
            row = session.get(ScoreState, 1)
            if row is None:
                return None
            return cls(
                scored_at=row.scored_at, computed_at=to_micros(row.computed_at),
                revision=row.revision, activity_max_id=row.activity_max_id,
                settings_digest=row.settings_digest, summary=row.summary, seconds=row.seconds,
            )  # fmt: skip

    def as_row(self) -> dict[str, Any]:
        """The `score_state` row (id 1) that records it, times as µs (what `read` reads)."""
        return {"id": 1, **asdict(self)}

    @property
    def at(self) -> datetime:
        """The time the scores answer for."""
        return from_micros(self.scored_at)

    @property
    def token(self) -> str:
        """The snapshot's token: names the files this rescore left beside the columnar copy
        (and the caches made from its scores), so a later rescore's files are never mistaken
        for them."""
        return f"{self.scored_at}-{self.computed_at}"

    def summary_json(self) -> dict[str, Any]:
        found: dict[str, Any] = json.loads(self.summary or "{}")
        return found

    def stale_reason(
        self, *, now: datetime, data: DataVersion, settings: MeasureSettings
    ) -> str | None:
        """Why these scores do not answer for `now` over `data` with `settings`; None when
        they do: same data, same settings, within `rescore.stale_after_minutes` of `now`."""
        if (self.revision, self.activity_max_id) != data:
            return DATA_CHANGED
        if self.settings_digest != settings_digest(settings):
            return SETTINGS_CHANGED
        gap = abs(to_micros(now) - self.scored_at) / 60e6
        if gap > settings.rescore.stale_after_minutes:
            return OTHER_TIME
        return None

    def snapshot(self, store: Store) -> Snapshot:
        """The files it left beside the columnar copy: the activities it saw, its snapshot."""
        from karmabank.store.columns import ActivityColumns, Snapshot  # Arrow: only now

        columns = ActivityColumns(store.url, store.engine, directory=store.columns_dir)
        return Snapshot(columns, self.token, self.activity_max_id)
