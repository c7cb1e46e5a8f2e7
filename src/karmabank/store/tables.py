"""The tables, as SQLAlchemy 2 typed models. Alembic migrations must match them exactly
(`tests/store/test_migrations.py` fails when they drift).

Times are `UtcTimestamp` (integer microseconds, UTC). Free-form details are JSON text.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, validates

from karmabank.names import name_key
from karmabank.store.types import UtcTimestamp

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UtcTimestamp(), str: Text()}


class Named:
    """A row found by its name: setting `name` through the ORM sets `name_key` too (the bulk
    writes of imports set both themselves)."""

    name_key: Mapped[str | None]

    @validates("name")
    def _keep_name_key(self, _column: str, value: str | None) -> str | None:
        self.name_key = name_key(value)
        return value


class Organization(Base):
    """The owner of the database; one row."""

    __tablename__ = "organization"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str]
    created_at: Mapped[datetime]
    # Bumped by every change the scores depend on, so shown scores know when they are stale.
    revision: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # Bumped when activities are changed or removed (not appended): the columnar copy is rebuilt.
    activity_epoch: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    erasure_salt: Mapped[str | None] = mapped_column(String(64))  # hex; store/erasures.py
    # Retention (`karmabank org retention`): activity texts older than this many days are
    # dropped (None: kept); every text before `retention_through` (UTC µs) of an activity with
    # an id up to `retention_checked_id` is already gone (actions/retention.py).
    retention_days: Mapped[int | None] = mapped_column(Integer)
    retention_through: Mapped[int | None] = mapped_column(BigInteger)
    retention_checked_id: Mapped[int | None] = mapped_column(BigInteger)


class OrgIdentity(Base):
    """How the organization itself is known on a platform (e.g. node 88 of an edge list)."""

    __tablename__ = "org_identity"
    __table_args__ = (UniqueConstraint("platform", "key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    platform: Mapped[str] = mapped_column(String(16))
    key: Mapped[str]


FLAGGED = "team OR bot OR do_not_contact OR erased"
# The largest id an `Integer` primary key holds on both backends (PostgreSQL's integer): a
# larger number names no row, and asking a database for it overflows the driver.
MAX_ID = 2**31 - 1


def stored_id(digits: str) -> int | None:
    """The id that ASCII `digits` name, or None when no row can have it (beyond `MAX_ID`)."""
    if len(digits.lstrip("0")) > len(str(MAX_ID)):  # int() of 5,000 digits raises
        return None
    n = int(digits)
    return n if n <= MAX_ID else None


class Person(Named, Base):
    """A human in the network. Flags are set by people (the `flag` command), never by imports;
    `name_manual` marks a name typed by a person, which imports never overwrite."""

    __tablename__ = "person"
    # the few flagged people, found without reading every person (measures and nurture ask)
    __table_args__ = (Index("ix_person_flagged", "id", sqlite_where=text(FLAGGED)),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str | None]
    # the name as it is compared (`karmabank.names.name_key`): every write of `name` sets it
    name_key: Mapped[str | None] = mapped_column(index=True)
    name_manual: Mapped[bool] = mapped_column(Boolean, default=False)
    team: Mapped[bool] = mapped_column(Boolean, default=False)
    bot: Mapped[bool] = mapped_column(Boolean, default=False)
    do_not_contact: Mapped[bool] = mapped_column(Boolean, default=False)
    erased: Mapped[bool] = mapped_column(Boolean, default=False)
    followers: Mapped[int | None] = mapped_column(BigInteger)  # audience size, if a source says
    created_at: Mapped[datetime]
    identities: Mapped[list[Identity]] = relationship(
        back_populates="person", order_by="Identity.id"
    )


class Identity(Base):
    """A normalized `(platform, key)` owned by one person."""

    __tablename__ = "identity"
    __table_args__ = (UniqueConstraint("platform", "key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    platform: Mapped[str] = mapped_column(String(16))
    key: Mapped[str]
    label: Mapped[str | None]
    person: Mapped[Person] = relationship(back_populates="identities")


class Activity(Base):
    """One interaction. `source_key` makes imports idempotent; `weight` is NULL when the
    verb's default weight (a setting) applies."""

    __tablename__ = "activity"
    __table_args__ = (
        Index("ix_activity_person_id_occurred_at", "person_id", "occurred_at"),
        Index("ix_activity_occurred_at", "occurred_at"),
        # a person's page finds what others did to them (peer activity) by this one
        Index(
            "ix_activity_target_id_occurred_at",
            "target_id",
            "occurred_at",
            sqlite_where=text("target_id IS NOT NULL"),
        ),
    )
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    source_key: Mapped[str] = mapped_column(unique=True)
    occurred_at: Mapped[datetime]
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    verb: Mapped[str] = mapped_column(String(32))
    direction: Mapped[str] = mapped_column(String(8))
    channel: Mapped[str] = mapped_column(String(32))
    object: Mapped[str | None]
    text: Mapped[str | None]
    target_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    weight: Mapped[float | None] = mapped_column(Float)
    import_run_id: Mapped[int | None] = mapped_column(ForeignKey("import_run.id"))


class Issue(Named, Base):
    """A cause or topic the organization cares about."""

    __tablename__ = "issue"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(unique=True)
    name_key: Mapped[str | None]  # `karmabank.names.name_key(name)`: no two issues share one
    description: Mapped[str] = mapped_column(default="")
    keywords: Mapped[str] = mapped_column(default="[]")  # JSON list of words
    created_at: Mapped[datetime]


class Campaign(Named, Base):
    """A call for support."""

    __tablename__ = "campaign"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(unique=True)
    name_key: Mapped[str | None]  # `karmabank.names.name_key(name)`: no two campaigns share one
    action: Mapped[str] = mapped_column(String(16))
    issue_id: Mapped[int | None] = mapped_column(ForeignKey("issue.id"))
    budget: Mapped[int]
    deadline: Mapped[datetime | None]
    created_at: Mapped[datetime]
    planned_at: Mapped[datetime | None]  # the last `campaign plan`
    expected_reach: Mapped[float | None] = mapped_column(Float)  # of that plan's asks
    target_reach: Mapped[float | None] = mapped_column(Float)  # the plan stops once it is met


class Ask(Base):
    """Person x campaign: planned -> sent -> responded (yes|no) -> acted, and a thank."""

    __tablename__ = "ask"
    __table_args__ = (UniqueConstraint("campaign_id", "person_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="planned")
    response: Mapped[str | None] = mapped_column(String(8))
    planned_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    responded_at: Mapped[datetime | None]
    acted_at: Mapped[datetime | None]
    thanked_at: Mapped[datetime | None]
    # the plan's word on this ask: its place, what it adds, how likely, why, the message
    position: Mapped[int | None]
    marginal_reach: Mapped[float | None] = mapped_column(Float)
    likelihood: Mapped[float | None] = mapped_column(Float)
    reason: Mapped[str | None]
    draft: Mapped[str | None]
    activity_id: Mapped[int | None] = mapped_column(ForeignKey("activity.id"))  # once sent


class Suggestion(Base):
    """An item of the nurture queue."""

    __tablename__ = "suggestion"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(unique=True)  # kind + subject, so an item is made once
    kind: Mapped[str] = mapped_column(String(32))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    activity_id: Mapped[int | None] = mapped_column(ForeignKey("activity.id"))
    reason: Mapped[str]
    priority: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime]
    snoozed_until: Mapped[datetime | None]
    done_at: Mapped[datetime | None]
    channel: Mapped[str | None] = mapped_column(String(32))
    give_verb: Mapped[str | None] = mapped_column(String(32))  # what `nurture done` records
    next_step: Mapped[str | None]
    draft: Mapped[str | None]


class ImportRun(Base):
    """One run of `karmabank import`, with its exact counts (kept up to date batch by batch)."""

    __tablename__ = "import_run"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    format: Mapped[str] = mapped_column(String(32))
    paths: Mapped[str]  # JSON list
    options: Mapped[str] = mapped_column(default="{}")  # JSON object
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16), default="running")
    rows_read: Mapped[int] = mapped_column(BigInteger, default=0)
    imported: Mapped[int] = mapped_column(BigInteger, default=0)
    duplicates: Mapped[int] = mapped_column(BigInteger, default=0)
    skipped: Mapped[int] = mapped_column(BigInteger, default=0)
    quarantined: Mapped[int] = mapped_column(BigInteger, default=0)


class Quarantine(Base):
    """A row an importer could not take, kept with its file, line, raw text and reason."""

    __tablename__ = "quarantine"
    __table_args__ = (UniqueConstraint("file", "line", "raw_digest"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    import_run_id: Mapped[int] = mapped_column(ForeignKey("import_run.id"), index=True)
    file: Mapped[str]
    line: Mapped[int]
    raw: Mapped[str]
    raw_digest: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str]
    created_at: Mapped[datetime]


class AuditLog(Base):
    """Who changed what, when: flags, merges, manual records, erasures, imports."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str]
    action: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str]
    details: Mapped[str] = mapped_column(default="{}")  # JSON object


WARMTH_INDEX = "ix_person_score_warmth"


class PersonScore(Base):
    """Every measure of one person at the last rescore (`score_state.scored_at`), with the parts
    that explain it (the few that only the computation needs, like warmth 90 days ago, are not
    kept). Replaced whole by each rescore; circle and stage columns also carry the
    history the next rescore needs (circle since when, a pending lower circle since when)."""

    __tablename__ = "person_score"
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), primary_key=True)
    # UTC microseconds, like every *_at here: their last activity, any direction
    last_at: Mapped[int] = mapped_column(BigInteger)
    warmth: Mapped[float] = mapped_column(Float)
    multiplexity: Mapped[float] = mapped_column(Float)
    channels: Mapped[int] = mapped_column(Integer)
    tenure_days: Mapped[int] = mapped_column(Integer)
    silence_days: Mapped[int | None] = mapped_column(Integer)
    presence_30: Mapped[int] = mapped_column(Integer)
    presence_90: Mapped[int] = mapped_column(Integer)
    presence_365: Mapped[int] = mapped_column(Integer)
    cadence_days: Mapped[float | None] = mapped_column(Float)
    cadence_used: Mapped[float] = mapped_column(Float)
    status: Mapped[str | None] = mapped_column(String(16))
    warmth_rank: Mapped[int | None] = mapped_column(Integer)
    raw_circle: Mapped[str | None] = mapped_column(String(16))
    circle: Mapped[str | None] = mapped_column(String(16))
    circle_since: Mapped[int | None] = mapped_column(BigInteger)
    pending_circle: Mapped[str | None] = mapped_column(String(16))
    pending_since: Mapped[int | None] = mapped_column(BigInteger)
    stage: Mapped[str | None] = mapped_column(String(16))
    stage_at: Mapped[int | None] = mapped_column(BigInteger)
    given: Mapped[float] = mapped_column(Float)
    asked: Mapped[float] = mapped_column(Float)
    balance: Mapped[float] = mapped_column(Float)
    balance_decayed: Mapped[float] = mapped_column(Float)
    asks_recent: Mapped[int] = mapped_column(Integer)
    asks_year: Mapped[int] = mapped_column(Integer)
    last_ask_at: Mapped[int | None] = mapped_column(BigInteger)
    ask_ready: Mapped[bool] = mapped_column(Boolean)
    ask_rule: Mapped[str | None] = mapped_column(String(16))


# The people listing's default order (warmest first, then by id) read off the index instead of
# sorting a million scores (migration 0009). The rescore on SQLite drops it before its bulk write
# and builds it again after, in the same transaction: building it once is cheaper than keeping
# it up to date a row at a time.
Index(WARMTH_INDEX, PersonScore.warmth.desc(), PersonScore.person_id)


class LadderTransition(Base):
    """A person moved on the ladder (from_stage NULL: entered it), for the funnel."""

    __tablename__ = "ladder_transition"
    __table_args__ = (
        Index("ix_ladder_transition_person_id_at", "person_id", "at"),
        # covering: the recent transitions (nurture's celebrations) come from the index alone
        Index("ix_ladder_transition_at", "at", "person_id", "from_stage", "to_stage"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    from_stage: Mapped[str | None] = mapped_column(String(16))
    to_stage: Mapped[str] = mapped_column(String(16))
    at: Mapped[int] = mapped_column(BigInteger)


class ScoreState(Base):
    """The last rescore: at what `now`, over which data, with the network's summary."""

    __tablename__ = "score_state"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # always 1
    scored_at: Mapped[int] = mapped_column(BigInteger)  # the `now` scores were computed for
    computed_at: Mapped[datetime]  # the clock when it ran
    revision: Mapped[int] = mapped_column(BigInteger)
    activity_max_id: Mapped[int] = mapped_column(BigInteger)
    settings_digest: Mapped[str] = mapped_column(String(64))
    summary: Mapped[str]  # JSON: thresholds, share ratio, counts per circle/status/stage
    seconds: Mapped[float] = mapped_column(Float)


class UserAccount(Base):
    """A team member who may use the web app and the API. `email` is stored lower-cased;
    `password_hash` is argon2id (PHC string); a disabled account cannot log in or use tokens."""

    __tablename__ = "user_account"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    role: Mapped[str] = mapped_column(String(16))  # owner, organizer or viewer
    password_hash: Mapped[str]
    created_at: Mapped[datetime]
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)


class ApiToken(Base):
    """A bearer token for the API. Only the SHA-256 of the token is kept (it is 256 random
    bits, so a fast hash is right); the clear token is shown once."""

    __tablename__ = "api_token"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]


class WebSession(Base):
    """A logged-in browser. The cookie holds a random id; only its SHA-256 is kept here, so a
    copy of the database logs nobody in. Logout deletes the row."""

    __tablename__ = "web_session"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    session_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)


def for_postgresql() -> None:
    """Give the partial indexes their predicate on PostgreSQL too. (Only for PostgreSQL
    databases: naming a dialect's option loads that dialect, 0.1 s on every command.)"""
    for index in Base.metadata.tables["person"].indexes | Base.metadata.tables["activity"].indexes:
        where = index.dialect_options["sqlite"]["where"]
        if where is not None:
            index.dialect_kwargs["postgresql_where"] = where
