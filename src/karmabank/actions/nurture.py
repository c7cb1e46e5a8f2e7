"""The daily nurture queue: build it, and record what was done, skipped or snoozed.

karmabank never sends anything: an item carries a reason, a next step and a draft from an
editable Jinja2 template; a person sends it, then `done` records the give (the ledger moves).
Templates: `templates/nurture/<kind>.<channel>.txt.j2`, else `<kind>.txt.j2`, looked up first in
`$KARMABANK_TEMPLATES`, then in a `templates/` folder beside a SQLite database, then the built-ins.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import jinja2
import pyarrow as pa
from sqlalchemy import select

from karmabank.actions.freshness import ensure_scores
from karmabank.actions.issues import IssueView, list_issues
from karmabank.actions.nurture_cache import cached_choice, keep_choice, queue_key
from karmabank.actions.opt_outs import Consent, consents, opted_out_everywhere
from karmabank.actions.organization import write_audit
from karmabank.actions.people import ID_PREFIX, person_refs
from karmabank.actions.recording import ActivityView, record_in
from karmabank.actions.scores import LastRescore, data_version
from karmabank.actions.scoring import flagged_people, nurture_pool_part
from karmabank.actions.templates import (
    first_name,
    render_template,
    templates,
    thing_they_did,
    what_they_did,
)
from karmabank.bounds import MAX_SNOOZE_DAYS
from karmabank.errors import ConfigError, NotFoundError, OptionError
from karmabank.frames import US_PER_DAY, micros
from karmabank.measures import nurture, nurture_rules
from karmabank.measures.settings import MeasureSettings
from karmabank.model import Direction
from karmabank.store import arrow_io
from karmabank.store.open import Store
from karmabank.store.tables import Activity, Ask, Organization, Suggestion

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


@dataclass(frozen=True)
class NurtureItem:
    id: int
    kind: str
    person: dict[str, Any]
    circle: str | None
    reason: str
    priority: float
    next_step: str
    draft: str
    channel: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "kind": self.kind, "person": self.person, "circle": self.circle,
            "reason": self.reason, "priority": round(self.priority, 3),
            "next_step": self.next_step, "draft": self.draft, "channel": self.channel,
        }  # fmt: skip


def _flags_and_opted_out(conn: Any) -> pa.Table:
    """The flagged people, and as do-not-contact those opted out of every channel they have
    (`opt_outs.opted_out_everywhere`): the queue suggests nothing for either."""
    flags = flagged_people(conn)
    everywhere = sorted(opted_out_everywhere(conn))
    if not everywhere:
        return flags
    n = len(everywhere)
    extra = {name: pa.array([False] * n, flags.schema.field(name).type)
             for name in flags.schema.names if name != "person_id"}  # fmt: skip
    extra["do_not_contact"] = pa.array([True] * n, flags.schema.field("do_not_contact").type)
    added = pa.table({"person_id": pa.array(everywhere, flags.schema.field("person_id").type),
                      **extra}).select(flags.schema.names).cast(flags.schema)  # fmt: skip
    return pa.concat_tables([flags, added])


def _reads(store: Store, now: datetime, s: MeasureSettings) -> dict[str, pa.Table]:
    """The rows the rules read from the database besides the snapshot, all small: flags and
    opt-outs, asks acted on and not thanked, the window's promotions, the items handled."""
    since = micros(now) - s.nurture.window_days * US_PER_DAY
    asks_sql = """(SELECT a.id AS ask_id, a.person_id, a.acted_at, c.name AS campaign
        FROM ask a JOIN campaign c ON c.id = a.campaign_id
        WHERE a.status = 'acted' AND a.thanked_at IS NULL) AS k"""
    transitions_sql = f"""(SELECT person_id, from_stage, to_stage, at FROM ladder_transition
        WHERE at > {since} AND at <= {micros(now)} AND from_stage IS NOT NULL
          AND {nurture_rules.promoted("from_stage", "to_stage")}) AS t"""  # promotions: celebrated
    handled_sql = """(SELECT key, status, snoozed_until FROM suggestion
        WHERE status <> 'open') AS h"""
    with store.engine.connect() as conn:  # small reads: no need for the ADBC driver
        return {
            "flags": _flags_and_opted_out(conn),
            "asks": arrow_io.read_table(conn, asks_sql, nurture.ASKS_SCHEMA),
            "transitions": arrow_io.read_table(conn, transitions_sql, nurture.TRANSITIONS_SCHEMA),
            "handled": arrow_io.read_table(conn, handled_sql, nurture.HANDLED_SCHEMA),
        }


def _snapshot_inputs(
    store: Store, now: datetime, s: MeasureSettings, last: LastRescore
) -> dict[str, Any]:
    """The activities and the scores the rules read: the rescore's snapshot (its pool)."""
    since = micros(now) - s.nurture.window_days * US_PER_DAY
    active_since = nurture.pool_since(s, micros(now))  # where the longest window starts
    unknown = ", ".join(
        f"CAST(NULL AS BIGINT) AS {c}" for c in nurture.SCORES_SCHEMA.names[6:]
    )  # what only the rescore's snapshot knows
    scores_sql = f"""(SELECT person_id, circle, status, warmth, tenure_days, cadence_used, {unknown}
        FROM person_score
        WHERE {nurture_rules.concerned_sql(s)}
           OR person_id IN (SELECT person_id FROM activity WHERE occurred_at > {active_since})
           OR person_id IN (SELECT person_id FROM ask
                            WHERE status = 'acted' AND thanked_at IS NULL)
           OR person_id IN (SELECT person_id FROM ladder_transition WHERE at > {since})) AS s"""
    snapshot = last.snapshot(store)
    scores = snapshot.files(nurture.SCORES_SCHEMA.names)
    pool = snapshot.files(nurture.SCORES_SCHEMA.names, nurture_pool_part(s))
    data: dict[str, Any] = {
        "acts": snapshot.activities(),
        "scores": scores,
        # the snapshot knows each person's last activity, last visit before the rescore's
        # window and our last gives, as of the rescore's cutoff
        "scored_at": None if scores is None else last.scored_at,
        "pool": None
        if scores is None or pool is None
        else nurture.Pool(pool, nurture.pool_since(s, last.scored_at)),
    }
    if scores is None:  # no snapshot: read the scores the rules need, column-wise
        with arrow_io.connect(store.url, store.engine) as adbc:
            data["scores"] = arrow_io.read_table(adbc, scores_sql, nurture.SCORES_SCHEMA)
    return data


def _matches(
    store: Store, now: datetime, s: MeasureSettings, issues: list[IssueView]
) -> pa.Table:
    """Recent content with a URL, scored against each issue (for `share` items)."""
    if not issues:
        return nurture.MATCHES_SCHEMA.empty_table()
    from karmabank.measures.affinity import IssueText, affinity

    since = now - timedelta(days=s.nurture.share_window_days)
    with store.sessions() as session:
        rows = session.execute(
            select(Activity.id, Activity.text, Activity.object).where(
                Activity.occurred_at > since,
                Activity.occurred_at <= now,
                Activity.direction.in_(("in", "peer")),
                Activity.object.is_not(None),
                Activity.text.is_not(None),
            )  # fmt: skip
        ).all()
    texts = pa.table(
        {
            "person_id": pa.array([r[0] for r in rows], pa.int64()),  # one document per activity
            "text": pa.array([f"{r[1]} {r[2]}" for r in rows], pa.string()),
        }
    )
    issue_texts = [IssueText(i.id, i.name, i.keywords, i.description) for i in issues]
    found = affinity(texts, issue_texts, s.affinity)
    import pyarrow.compute as pc  # here: 50 ms of start-up the queue without issues skips

    found = found.filter(pc.greater(found.column("bm25"), 0))
    matches = pa.table(
        {
            "activity_id": found.column("person_id"),
            "issue_id": found.column("issue_id"),
            "affinity": found.column("affinity"),
            "terms": found.column("terms"),
        }
    ).cast(nurture.MATCHES_SCHEMA)
    return matches


def nurture_queue(
    *, store: Store, now: datetime, settings: MeasureSettings, limit: int | None = None
) -> list[NurtureItem]:
    """Today's queue, most pressing first, at most `limit` items, one per person. The choice
    is kept for a minute while nothing it reads changes (`nurture_cache`); the items are
    written out from it each time (names, drafts and consents as they are now)."""
    n = limit if limit is not None else settings.nurture.limit
    if n < 1:
        raise OptionError("limit", "must be at least 1")
    last = ensure_scores(store=store, now=now, settings=settings)
    reads = _reads(store, now, settings)
    issues = list_issues(store=store)
    key = queue_key(
        last=last, data=data_version(store), settings=settings, limit=n, at=micros(now),
        tables=reads, issues=[i.as_json() for i in issues],
    )  # fmt: skip
    chosen = cached_choice(store, last, key)
    if chosen is None:
        data = {**reads, **_snapshot_inputs(store, now, settings, last)}
        chosen = nurture.queue(
            data["acts"], now=now, settings=settings, scores=data["scores"],
            flags=data["flags"], transitions=data["transitions"], asks=data["asks"],
            matches=_matches(store, now, settings, issues), handled=data["handled"], limit=n,
            scored_at=data["scored_at"], pool=data["pool"],
        ).to_pylist()  # fmt: skip
        keep_choice(store, last, key, chosen)
    issue_names = {i.id: i.name for i in issues}
    return _store_items(store, now, chosen, issue_names)


def _store_items(
    store: Store, now: datetime, chosen: list[dict[str, Any]], issue_names: dict[int, str]
) -> list[NurtureItem]:
    env = templates(store, "nurture")
    refs = person_refs(store, [c["person_id"] for c in chosen])
    items: list[NurtureItem] = []
    with store.sessions.begin() as session:  # a few set-wise reads, then the writes
        org = session.scalar(select(Organization.name).order_by(Organization.id).limit(1))
        acts = {a.id: a for a in session.scalars(select(Activity).where(
            Activity.id.in_([c["activity_id"] for c in chosen if c["activity_id"]])))}  # fmt: skip
        known = {x.key: x for x in session.scalars(select(Suggestion).where(
            Suggestion.key.in_([c["key"] for c in chosen])))}  # fmt: skip
        consent = consents(session, {pid: refs[pid]["identities"] for pid in refs})
        for c in chosen:
            pid = c["person_id"]
            act = acts.get(c["activity_id"]) if c["activity_id"] else None
            reason, step, context = _explain(c, act, now, issue_names)
            if pid in consent:
                c, reason = _consented(c, reason, consent[pid])
            first = first_name(refs[pid]["name"])
            context.update(name=first, hi=f"Hi {first}" if first else "Hi", org=org or "us")
            draft = _render(env, c["kind"], c["channel"], context)
            s = known.get(c["key"])
            if s is None:
                s = Suggestion(key=c["key"], kind=c["kind"], person_id=pid, created_at=now,
                               status="open", reason=reason, priority=c["priority"])  # fmt: skip
                session.add(s)
            s.activity_id, s.reason, s.priority = c["activity_id"], reason, c["priority"]
            s.status, s.snoozed_until = "open", None
            s.channel, s.give_verb, s.next_step, s.draft = c["channel"], c["give_verb"], step, draft
            item = NurtureItem(0, c["kind"], refs[pid], c["circle"], reason, c["priority"], step,
                               draft, c["channel"])  # fmt: skip
            items.append(item)
            known[c["key"]] = s
        session.flush()  # the new items' ids
        items = [replace(i, id=known[c["key"]].id) for i, c in zip(items, chosen, strict=True)]
    return items


def _consented(c: dict[str, Any], reason: str, consent: Consent) -> tuple[dict[str, Any], str]:
    """The item on a channel its person did not opt out of (their first one left when they
    opted out of its activity's), and its reason saying so ("opted out of email: write on
    mastodon"). Those opted out of every channel never get here (as do-not-contact)."""
    channel = consent.route(c["channel"])
    return {**c, "channel": channel}, f"{reason}; {consent.note(channel)}"


def _days_ago(at: datetime, now: datetime) -> str:
    d = (now - at).days
    return "today" if d == 0 else "yesterday" if d == 1 else f"{d} days ago"


def _explain(
    c: dict[str, Any], act: Activity | None, now: datetime, issue_names: dict[int, str]
) -> tuple[str, str, dict[str, Any]]:
    """(reason, next step, template context) of one chosen item: its rule's sentence
    (`nurture_rules`), over the variables every draft has."""
    ctx: dict[str, Any] = {"verb": "", "text": "", "object": "", "campaign": "", "issue": "",
                           "days": 0, "years": 0, "stage": "", "what": "being with us",
                           "thing": "message"}  # fmt: skip
    issue = issue_names.get(c["issue_id"] or -1, "")
    facts = nurture_rules.Facts(detail=c["detail"] or "", channel=c["channel"], issue=issue)
    if act is not None:
        ctx.update(verb=act.verb, text=act.text or "", object=act.object or "",
                   what=what_they_did(act.verb, act.channel),
                   thing=thing_they_did(act.verb))  # fmt: skip
        facts = replace(facts, verb=act.verb, text=act.text or "", object=act.object or "",
                        when=_days_ago(act.occurred_at, now))  # fmt: skip
    said = nurture_rules.rule(c["kind"]).sentence(facts)
    ctx.update(said.context)
    return said.reason, said.next_step, ctx


def _render(env: jinja2.Environment, kind: str, channel: str | None, ctx: dict[str, Any]) -> str:
    names = ([f"{kind}.{channel}"] if channel else []) + [kind]
    return render_template(env, names, ctx, f"nurture {kind}")


@dataclass(frozen=True)
class HandledItem:
    """A nurture item after `done`, `skip` or `snooze`."""

    id: int
    status: str
    snoozed_until: datetime | None

    @classmethod
    def of(cls, row: Suggestion) -> HandledItem:
        return cls(row.id, row.status, row.snoozed_until)


def _open_item(session: Session, item_id: int) -> Suggestion:
    """The item, locked for this transaction where the database can, if it is still open or
    snoozed."""
    row = session.get(Suggestion, item_id, with_for_update=True)
    if row is None:
        raise NotFoundError(f"no nurture item {item_id} (see `karmabank nurture`)")
    if row.status in ("done", "skipped"):
        raise ConfigError(f"nurture item {item_id} is already {row.status}")
    return row


def nurture_done(
    *, store: Store, item_id: int, now: datetime, actor: str = "cli"
) -> tuple[HandledItem, ActivityView]:
    """Record the give the item asked for (the ledger moves) and close the item, in one
    transaction: a failure anywhere leaves neither, so a retry records the give once."""
    with store.sessions.begin() as session:
        row = _open_item(session, item_id)
        act = record_in(
            session, direction=Direction.GIVE, ref=f"{ID_PREFIX}{row.person_id}",
            verb=row.give_verb or "thank", at=now, now=now, channel=row.channel, text=row.draft,
            actor=actor,
        )  # fmt: skip
        row.status, row.done_at = "done", now
        ask_id = nurture_rules.key_parts(row.key).get("ask_id")
        if ask_id is not None and (ask := session.get(Ask, int(ask_id))) is not None:
            ask.thanked_at = now  # a thank for acting on an ask: the ask is thanked
        session.flush()
        return HandledItem.of(row), ActivityView.of(act)


def nurture_skip(*, store: Store, item_id: int, now: datetime, actor: str = "cli") -> HandledItem:
    return _set_status(store, item_id, "skipped", None, now, actor)


def nurture_snooze(
    *, store: Store, item_id: int, now: datetime, days: int, actor: str = "cli"
) -> HandledItem:
    if not 1 <= days <= MAX_SNOOZE_DAYS:
        raise OptionError("days", f"must be from 1 to {MAX_SNOOZE_DAYS}, not {days}")
    return _set_status(store, item_id, "snoozed", now + timedelta(days=days), now, actor)


def _set_status(
    store: Store, item_id: int, status: str, until: datetime | None, now: datetime, actor: str
) -> HandledItem:  # fmt: skip
    """Skip or snooze an item, audited (`nurture skipped` / `nurture snoozed`), in one
    transaction."""
    with store.sessions.begin() as session:
        row = _open_item(session, item_id)
        row.status, row.snoozed_until = status, until
        write_audit(session, now=now, actor=actor, action=f"nurture {status}",
                    subject=f"person:{row.person_id}",
                    details={"item": row.id, "kind": row.kind,
                             "until": until.isoformat() if until else None},
                    scored=False)  # fmt: skip
        session.flush()
        return HandledItem.of(row)
