"""The nurture rules as a table (PRODUCT.md §4): one `Rule` per kind of item, pure.

A rule is everything about its kind in one place: which items it finds (SQL over the tables
`measures.nurture` shares between the rules: `recent`, `scores`, `gives`, `back`, `asks`,
`transitions`, `matches`), what each item's key is made of, the give `nurture done` records,
what its reason needs once it is chosen (`detail`), and the sentence (reason, next step, the
draft's variables) said about it. Everything else is derived from `RULES`: every rule's items in
one statement (`items_sql`), the chosen items' columns read back from their keys (`decode_sql`),
their description (`describe_sql`), the people a rule may concern from their scores alone
(`concerned_sql`, which a rescore stores per person).

Adding a kind: one `Rule` in `RULES`, one draft template (`templates/nurture/<kind>.txt.j2`), one
row in docs/nurture.md's table and a default priority (`nurture.priorities`);
`tests/measures/test_nurture_rules.py` checks that they agree.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from karmabank.frames import US_PER_DAY, micros
from karmabank.measures.settings import MeasureSettings
from karmabank.model import Circle, RhythmStatus, Stage, Verb

# Our last give of each kind to a person, and the verbs that count as one: what the rules ask
# (`not_given`). The rescore keeps each as a `gave_<name>` column: names are stored, keep them.
GIVES = {
    "reply_at": f"verb = '{Verb.REPLY}'",
    "thank_at": f"verb IN ('{Verb.THANK}', '{Verb.REPLY}')",
    "welcome_at": f"verb = '{Verb.WELCOME}'",
    "share_at": f"verb = '{Verb.SHARE}'",
    "any_at": "true",
}
_LEVELS = " ".join(f"WHEN '{s}' THEN {n}" for n, s in enumerate(Stage, 1))  # lowest first
_STAGE_LEVEL = f"CASE {{}} {_LEVELS} END"
# The narrow columns an item may name besides its person (read back from its key when chosen).
SUBJECT_TYPES = {"activity_id": "BIGINT", "ask_id": "BIGINT", "issue_id": "BIGINT",
                 "note": "VARCHAR"}  # fmt: skip


def promoted(from_stage: str, to_stage: str) -> str:
    """SQL (any engine): the ladder transition from `from_stage` to `to_stage` is a promotion."""
    return f"({_STAGE_LEVEL.format(to_stage)}) > ({_STAGE_LEVEL.format(from_stage)})"


def anniversary_sql(circle: str, tenure_days: str, settings: MeasureSettings) -> str:
    """SQL (any engine): a tenure anniversary falls in the window. Only for people who came
    toward us: someone we only gave to or asked has no circle (no inbound activity) and no
    anniversary with us to celebrate."""
    window = int(settings.nurture.window_days)
    return f"""{circle} IS NOT NULL AND {tenure_days} >= 365
        AND {tenure_days} % 365 < {window}"""


def not_given(give: str, at: str) -> str:
    """SQL: no give of the kind `give` (a GIVES name) to them at or after `at`."""
    return f"coalesce(g.{give}, -1) < {at}"


@dataclass(frozen=True)
class Window:
    """What the rules' SQL reads of the queue: its time and window starts (µs), its settings."""

    now: int
    since: int  # the window's start (`window_days`): new activity, promotions, returns
    share_since: int  # the share window's start (`share_window_days`)
    settings: MeasureSettings

    @classmethod
    def at(cls, now: datetime, settings: MeasureSettings) -> Window:
        n, now_us = settings.nurture, micros(now)
        return cls(now_us, now_us - n.window_days * US_PER_DAY,
                   now_us - n.share_window_days * US_PER_DAY, settings)  # fmt: skip


@dataclass(frozen=True)
class Items:
    """One SELECT of a rule's items: `sql` (FROM ... WHERE ...) and the SQL of the narrow
    columns it gives (`person_id` always; what the item is about; `period`: a key part that is
    no column, e.g. a check-in's month; `bonus`: added to the kind's priority)."""

    sql: str
    person_id: str
    activity_id: str | None = None
    ask_id: str | None = None
    issue_id: str | None = None
    note: str | None = None
    period: str | None = None
    bonus: str | None = None


@dataclass(frozen=True)
class Facts:
    """What a chosen item's sentence reads: its `detail` and channel, the name of its issue,
    and the activity it is about ("" when none; `when`: "today", "3 days ago")."""

    detail: str
    channel: str | None
    issue: str = ""
    verb: str = ""
    text: str = ""
    object: str = ""
    when: str = ""


@dataclass(frozen=True)
class Sentence:
    """What is said about an item: its reason, its next step, and the draft's variables the
    rule sets (over the common ones: `verb`, `text`, `what`...)."""

    reason: str
    next_step: str
    context: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Rule:
    """One kind of nurture item. `key`: the parts after `<kind>:` that make an item the same
    item every day (names of `Items` fields); `detail`: SQL over the described item (`c`) and
    the tables it joins (`r` its activity, `b` its return, `m` its match, `k` its ask, `s` its
    person's scores); `concerns`: SQL over a person's scores, true for the people it may
    concern whatever they did lately (the rescore keeps it per person)."""

    kind: str
    give_verb: Verb  # what `nurture done` records
    key: tuple[str, ...]
    items: Callable[[Window], tuple[Items, ...]]
    detail: str
    sentence: Callable[[Facts], Sentence]
    concerns: Callable[[MeasureSettings], str] | None = None


_CLOSE_AND_DRIFTING = (
    f"status = '{RhythmStatus.DRIFTING}' AND circle IN ('{Circle.CORE}', '{Circle.ALLIES}')"
)
_NEWCOMER = f"circle = '{Circle.NEWCOMERS}'"


def _inbound(w: Window) -> str:
    return f"r.direction = 'in' AND r.occurred_at > {w.since}"


def _thank_ask(w: Window) -> tuple[Items, ...]:
    return (Items("FROM asks k", person_id="k.person_id", ask_id="k.ask_id"),)


def _thank_ask_said(f: Facts) -> Sentence:
    return Sentence(f'acted on "{f.detail}": thank them', "send the thank-you below",
                    {"campaign": f.detail, "what": f'acting on "{f.detail}"'})  # fmt: skip


def _reply(w: Window) -> tuple[Items, ...]:
    verbs = ", ".join(f"'{v}'" for v in w.settings.nurture.reply_verbs) or "NULL"
    return (
        Items(
            f"""FROM recent r LEFT JOIN gives g USING (person_id)
            WHERE {_inbound(w)} AND r.verb IN ({verbs})
              AND {not_given("reply_at", "r.occurred_at")}""",
            person_id="r.person_id", activity_id="r.id",
        ),
    )  # fmt: skip


def _reply_said(f: Facts) -> Sentence:
    quote = f.text.strip()
    step = f'answer: "{quote[:200]}"' if quote else "answer them where they wrote"
    return Sentence(f"{f.verb} on {f.channel} {f.when}, not answered yet", step)


def _thank(w: Window) -> tuple[Items, ...]:
    return (
        Items(
            f"""FROM recent r LEFT JOIN gives g USING (person_id)
            WHERE {_inbound(w)} AND r.w >= {w.settings.nurture.thank_min_weight!r}
              AND {not_given("thank_at", "r.occurred_at")}""",
            person_id="r.person_id", activity_id="r.id",
        ),
    )  # fmt: skip


def _thank_said(f: Facts) -> Sentence:
    return Sentence(f"{f.verb} on {f.channel} {f.when}: say thank you", "send a thank-you")


def _check_in(w: Window) -> tuple[Items, ...]:
    cooldown = w.now - w.settings.nurture.check_in_cooldown_days * US_PER_DAY
    return (
        Items(
            f"""FROM scores s LEFT JOIN gives g USING (person_id)
            WHERE {_CLOSE_AND_DRIFTING} AND coalesce(g.any_at, -1) <= {cooldown}""",
            person_id="s.person_id", period=f"strftime(make_timestamp({w.now}), '%Y-%m')",
        ),
    )  # fmt: skip


def _check_in_said(f: Facts) -> Sentence:
    return Sentence(f"{f.detail}, drifting: quieter than their own rhythm — check in gently",
                    "a short personal note, no ask")  # fmt: skip


def _welcome_back(w: Window) -> tuple[Items, ...]:
    silence = f"""{US_PER_DAY} * greatest({w.settings.nurture.welcome_back_days},
              {w.settings.rhythm.resting_factor!r} * s.cadence_used)"""
    return (
        Items(
            f"""FROM recent r JOIN back b USING (id) JOIN scores s USING (person_id)
                 LEFT JOIN gives g USING (person_id)
            WHERE r.occurred_at - b.prev_at >= {silence}
              AND {not_given("welcome_at", "r.occurred_at")}""",
            person_id="r.person_id", activity_id="r.id",
        ),
    )  # fmt: skip


def _welcome_back_said(f: Facts) -> Sentence:
    days = int(f.detail)
    return Sentence(f"back after {days} days of silence (a {f.verb}, {f.when})",
                    "welcome them back", {"days": days})  # fmt: skip


def _celebrate(w: Window) -> tuple[Items, ...]:
    years = "(s.tenure_days // 365)"
    return (
        Items(
            f"FROM scores s WHERE {anniversary_sql('s.circle', 's.tenure_days', w.settings)}",
            person_id="s.person_id", note=f"'tenure-' || {years}",
        ),
        Items(
            f"""FROM transitions t
            WHERE t.at > {w.since} AND t.at <= {w.now} AND t.from_stage IS NOT NULL
              AND {promoted("t.from_stage", "t.to_stage")}""",
            person_id="t.person_id", note="'stage-' || t.to_stage",
        ),
    )  # fmt: skip


def _celebrate_said(f: Facts) -> Sentence:
    milestone, _, value = f.detail.partition("-")  # the key's part: tenure-<years>, stage-<stage>
    if milestone == "tenure":
        return Sentence(f"{value} year(s) with us this week: celebrate", "send congratulations",
                        {"years": int(value)})  # fmt: skip
    a_stage = ("an " if value[:1] in "aeiou" else "a ") + value
    return Sentence(f"became {a_stage}: celebrate", "send congratulations", {"stage": a_stage})


def _share(w: Window) -> tuple[Items, ...]:
    return (
        Items(
            f"""FROM recent r JOIN matches m ON m.activity_id = r.id
                 LEFT JOIN gives g USING (person_id)
            WHERE r.occurred_at > {w.share_since} AND m.affinity > 0
              AND {not_given("share_at", "r.occurred_at")}""",
            person_id="r.person_id", activity_id="r.id", issue_id="m.issue_id",
            bonus="m.affinity",
        ),
    )  # fmt: skip


def _share_said(f: Facts) -> Sentence:
    about = f" about {f.detail}" if f.detail else ""
    return Sentence(f"posted something for {f.issue}{about} {f.when}: share it",
                    f"share {f.object}", {"issue": f.issue})  # fmt: skip


def _welcome(w: Window) -> tuple[Items, ...]:
    return (
        Items(
            f"""FROM scores s LEFT JOIN gives g USING (person_id)
            WHERE {_NEWCOMER} AND g.welcome_at IS NULL""",
            person_id="s.person_id",
        ),
    )  # fmt: skip


def _welcome_said(f: Facts) -> Sentence:
    return Sentence(f"new: first seen {f.detail} days ago, not welcomed yet", "welcome them")


# The kinds, as docs/nurture.md lists them (most pressing first by default: `nurture.priorities`).
RULES: tuple[Rule, ...] = (
    Rule(kind="thank_ask", give_verb=Verb.THANK, key=("ask_id",), items=_thank_ask,
         detail="k.campaign", sentence=_thank_ask_said),
    Rule(kind="reply", give_verb=Verb.REPLY, key=("activity_id",), items=_reply,
         detail="r.verb || ' ' || r.occurred_at", sentence=_reply_said),
    Rule(kind="thank", give_verb=Verb.THANK, key=("activity_id",), items=_thank,
         detail="r.verb || ' ' || r.occurred_at", sentence=_thank_said),
    Rule(kind="check_in", give_verb=Verb.CHECK_IN, key=("person_id", "period"), items=_check_in,
         detail="s.circle", sentence=_check_in_said, concerns=lambda s: _CLOSE_AND_DRIFTING),
    Rule(kind="welcome_back", give_verb=Verb.WELCOME, key=("activity_id",), items=_welcome_back,
         detail=f"((r.occurred_at - b.prev_at) // {US_PER_DAY})::VARCHAR",
         sentence=_welcome_back_said),
    Rule(kind="celebrate", give_verb=Verb.CELEBRATE, key=("person_id", "note"), items=_celebrate,
         detail="c.note", sentence=_celebrate_said,
         concerns=lambda s: anniversary_sql("circle", "tenure_days", s)),
    Rule(kind="share", give_verb=Verb.SHARE, key=("activity_id", "issue_id"), items=_share,
         detail="m.terms", sentence=_share_said),
    Rule(kind="welcome", give_verb=Verb.WELCOME, key=("person_id",), items=_welcome,
         detail="s.tenure_days::VARCHAR", sentence=_welcome_said, concerns=lambda s: _NEWCOMER),
)  # fmt: skip
BY_KIND: dict[str, Rule] = {r.kind: r for r in RULES}


def rule(kind: str) -> Rule:
    """The rule of `kind` (ValueError for a kind no rule makes, e.g. an item stored by an older
    version whose kind is gone)."""
    try:
        return BY_KIND[kind]
    except KeyError:
        raise ValueError(f"unknown nurture kind {kind!r}") from None


def key_parts(key: str) -> dict[str, str]:
    """An item's key read back by its rule's `key`: `thank_ask:5` is {"ask_id": "5"}."""
    kind, *parts = key.split(":")
    return dict(zip(rule(kind).key, parts, strict=False))


def concerned_sql(settings: MeasureSettings) -> str:
    """SQL (any engine) over a person's scores: some rule may concern them whatever they did
    lately (drifting core and allies, newcomers, tenure anniversaries). The rescore stores it
    per person, so the queue reads a boolean instead of three strings and a number for each of a
    million people."""
    return "(" + " OR ".join(f"({r.concerns(settings)})" for r in RULES if r.concerns) + ")"


def items_sql(w: Window) -> str:
    """Every rule's items, narrow (key, kind, person_id, the subject's columns, base priority):
    what the choice needs."""
    p = w.settings.nurture.priorities
    selects = []
    for r in RULES:
        for it in r.items(w):
            named = {"person_id": it.person_id, "activity_id": it.activity_id,
                     "ask_id": it.ask_id, "issue_id": it.issue_id, "note": it.note,
                     "period": it.period}  # fmt: skip
            if any(named[part] is None for part in r.key):
                raise ValueError(f"{r.kind}: its items must give every part of its key {r.key}")
            key = " || ':' || ".join(f"{named[part]}" for part in r.key)
            subject = ", ".join(
                f"{named[c] or f'NULL::{t}'} AS {c}" for c, t in SUBJECT_TYPES.items()
            )
            base = f"{p[r.kind]!r}" + (f" + {it.bonus}" if it.bonus else "")
            selects.append(f"""SELECT '{r.kind}:' || {key} AS key, '{r.kind}' AS kind,
                   {it.person_id} AS person_id, {subject}, {base} AS base
            {it.sql}""")
    return "\nUNION ALL\n".join(selects)


def decode_sql(chosen: str) -> str:
    """The chosen narrow rows (key, person_id, priority, circle) with their kind and the
    subject's columns read back from their keys (`<kind>:<part>:<part>`, as `Rule.key` says)."""
    columns = []
    for column, sql_type in SUBJECT_TYPES.items():
        cases = " ".join(
            f"WHEN '{r.kind}' THEN split_part(key, ':', {r.key.index(column) + 2})::{sql_type}"
            for r in RULES
            if column in r.key
        )
        columns.append(f"CASE kind {cases} END AS {column}")
    kinds = f"(SELECT *, split_part(key, ':', 1) AS kind FROM {chosen})"
    return f"(SELECT *, {', '.join(columns)} FROM {kinds})"


def describe_sql(items: str) -> str:
    """CANDIDATE_SCHEMA rows of the narrow `items`: the channel of their activity, the give
    verb, and what each rule's sentence needs (`Rule.detail`), from the shared tables."""
    verbs = " ".join(f"WHEN '{r.kind}' THEN '{r.give_verb}'" for r in RULES)
    details = " ".join(f"WHEN '{r.kind}' THEN {r.detail}" for r in RULES)
    return f"""SELECT c.key, c.kind, c.person_id, c.activity_id, c.ask_id, c.issue_id,
           c.priority, CASE c.kind {verbs} END AS give_verb,
           CASE WHEN c.activity_id IS NOT NULL THEN r.channel END AS channel, c.circle,
           CASE c.kind {details} END AS detail
        FROM {items} c
        LEFT JOIN recent r ON r.id = c.activity_id
        LEFT JOIN back b ON b.id = c.activity_id
        LEFT JOIN matches m ON m.activity_id = c.activity_id AND m.issue_id = c.issue_id
        LEFT JOIN asks k ON k.ask_id = c.ask_id
        LEFT JOIN scores s ON s.person_id = c.person_id"""
