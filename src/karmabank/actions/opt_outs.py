"""Per-channel opt-outs (`karmabank optout PERSON CHANNEL [--off]`, and imports that carry one:
a Mailchimp unsubscribed file): a person who opted out of a channel is never asked on it; an
ask goes through the first of their identities' channels they did not opt out of, and a
person opted out of every channel they have is left out of a plan (`opted_out`).
`do_not_contact` stays the all-channel switch.

Opt-outs are read live, never from the stored scores (an opt-out does not make the scores
stale): `Consent` is what they leave of a person's channels, and every reader that suggests
contact (the nurture queue, a plan's asks and drafts, a send, the person's ledger) goes
through it, so its reasons say the same thing ("opted out of email: on mastodon")."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, text
from sqlalchemy.orm import Session

from karmabank.actions.organization import write_audit
from karmabank.actions.people import PersonRef, find_person
from karmabank.errors import ConfigError
from karmabank.model import check_channel
from karmabank.store.open import Store
from karmabank.store.org_tables import OptOut


@dataclass(frozen=True)
class OptOutChange:
    person: PersonRef
    channel: str
    on: bool
    changed: bool  # False: it was already so

    def as_json(self) -> dict[str, Any]:
        return {"person": self.person.as_json(), "channel": self.channel, "opted_out": self.on,
                "changed": self.changed}  # fmt: skip


def channel_of(given: str) -> str:
    try:
        return check_channel(given)
    except ValueError as e:
        raise ConfigError(str(e)) from None


def set_opt_out(
    *, store: Store, ref: str, channel: str, on: bool, now: datetime, actor: str
) -> OptOutChange:
    """Opt a person out of a channel (or, `on=False`, back in), audited, in one transaction."""
    c = channel_of(channel)
    with store.sessions.begin() as session:
        p = find_person(session, ref)
        row = session.scalar(select(OptOut).where(OptOut.person_id == p.id, OptOut.channel == c))
        changed = (row is None) == on
        if on and row is None:
            session.add(OptOut(person_id=p.id, channel=c, created_at=now, source=actor))
        elif not on and row is not None:
            session.delete(row)
        if changed:
            write_audit(session, now=now, actor=actor, action="optout", subject=f"person:{p.id}",
                        details={"channel": c, "on": on}, scored=False)  # fmt: skip
        return OptOutChange(PersonRef.of(p), c, on, changed)


@dataclass(frozen=True)
class Consent:
    """A person's opt-outs (`opted_out`, in name order) and the channels a message to them may
    go through (`channels`: `ask_channels`, in their identities' order)."""

    opted_out: tuple[str, ...]
    channels: tuple[str, ...]

    @classmethod
    def of(cls, identities: Sequence[str], opted_out: Iterable[str]) -> Consent:
        out = tuple(sorted(set(opted_out)))
        return cls(out, tuple(ask_channels(identities, out)))

    @property
    def nowhere(self) -> bool:
        """Opted out of every channel they have: nothing may be suggested to them."""
        return not self.channels

    def route(self, channel: str | None) -> str | None:
        """The channel to write on instead of `channel` (None: no particular one): itself
        unless they opted out of it, else the first channel left (None when none is)."""
        if channel is None or channel not in self.opted_out:
            return channel
        return self.channels[0] if self.channels else None

    def note(self, channel: str | None, verb: str = "write") -> str:
        """What a reason adds: "" without opt-outs; "opted out of email" when `channel` is not
        one of them; "opted out of email: write on mastodon" when it was routed elsewhere
        (`channel`: where the message now goes)."""
        if not self.opted_out:
            return ""
        said = f"opted out of {', '.join(self.opted_out)}"
        return f"{said}: {verb} on {channel}" if channel is not None else said


def consents(session: Session, people: dict[int, Sequence[str]]) -> dict[int, Consent]:
    """`Consent` of each person (id: their identities, `platform:key`), in one query per
    1,000 people; people without opt-outs are left out (nothing to apply)."""
    found: dict[int, list[str]] = {}
    ids = sorted(people)
    for start in range(0, len(ids), 1_000):
        rows = session.execute(
            select(OptOut.person_id, OptOut.channel).where(
                OptOut.person_id.in_(ids[start : start + 1_000])
            )
        )
        for pid, channel in rows:
            found.setdefault(int(pid), []).append(str(channel))
    return {pid: Consent.of(people[pid], out) for pid, out in found.items()}


def opt_outs_of(session: Session, person_id: int) -> list[str]:
    """The channels a person opted out of, in name order."""
    return list(
        session.scalars(
            select(OptOut.channel).where(OptOut.person_id == person_id).order_by(OptOut.channel)
        )
    )


def store_opt_outs(
    conn: Connection, wanted: Iterable[tuple[int, str]], now_us: int, source: str
) -> int:
    """Opt each (person, channel) out (an import's `OptOutRow`s); how many were new."""
    pairs = set(wanted)
    if not pairs:
        return 0
    people = sorted({p for p, _ in pairs})
    for start in range(0, len(people), 1_000):
        chunk = people[start : start + 1_000]
        found = conn.execute(
            select(OptOut.person_id, OptOut.channel).where(OptOut.person_id.in_(chunk))
        )
        pairs -= {(int(p), str(c)) for p, c in found}
    if pairs:
        conn.execute(
            text(
                "INSERT INTO opt_out (person_id, channel, created_at, source)"
                " VALUES (:p, :c, :at, :source)"
            ),
            [{"p": p, "c": c, "at": now_us, "source": source} for p, c in sorted(pairs)],
        )
    return len(pairs)


def ask_channels(identities: Sequence[str], opted_out: Iterable[str]) -> list[str]:
    """The channels an ask may go through, in the order of the person's identities
    (`platform:key`): their platforms, less those opted out of (a person without identities:
    `other`, unless they opted out of anything)."""
    out = set(opted_out)
    if not identities:
        return [] if out else ["other"]
    seen: dict[str, None] = {}
    for identity in identities:
        platform = identity.split(":", 1)[0]
        if platform not in out:
            seen.setdefault(platform, None)
    return list(seen)


def opted_out_everywhere(conn: Connection) -> set[int]:
    """The people with an opt-out who have no identity on a channel they did not opt out of
    (no channel is left to ask them on)."""
    rows = conn.execute(
        text(
            "SELECT DISTINCT o.person_id FROM opt_out o WHERE NOT EXISTS ("
            " SELECT 1 FROM identity i WHERE i.person_id = o.person_id AND NOT EXISTS ("
            "  SELECT 1 FROM opt_out o2 WHERE o2.person_id = i.person_id"
            "  AND o2.channel = i.platform))"
        )
    )
    return {int(r[0]) for r in rows}
