"""The person page's timeline: a page of `actions.timeline.person_timeline` and the links of
its filters (whose activity, direction, channel) and pages, each a plain GET link."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from karmabank.actions.timeline import DIRECTIONS, WHOSE, person_timeline
from karmabank.model import Flag

if TYPE_CHECKING:
    from karmabank.store.open import Store

TIMELINE_PAGE = 50
WHOSE_LABELS = {"theirs": "theirs", "others": "others' toward them", "all": "everything"}


def timeline_context(
    store: Store, person_id: int, whose: str, direction: str, channel: str, offset: int
) -> dict[str, Any]:
    """`timeline` (the page's JSON) and `timeline_links`: the filters and the page links."""
    shown = person_timeline(
        store=store, ref=f"id:{person_id}", whose=whose if whose in WHOSE else "theirs",
        direction=direction if direction in DIRECTIONS else None,
        channel=channel or None, offset=offset, limit=TIMELINE_PAGE,
    )  # fmt: skip
    kept = {
        "whose": shown.whose,
        "direction": shown.direction or "",
        "channel": shown.channel or "",
    }

    def link(**change: Any) -> str:
        query = {k: v for k, v in {**kept, "offset": 0, **change}.items() if v}
        return f"/people/id:{person_id}?" + urlencode(query) + "#timeline-h"

    links = {
        "whose": [(WHOSE_LABELS[w], link(whose=w), w == shown.whose) for w in WHOSE],
        "previous": link(offset=max(0, offset - TIMELINE_PAGE)) if offset else None,
        "next": link(offset=offset + TIMELINE_PAGE) if shown.more else None,
    }
    return {"timeline": shown.as_json(), "timeline_links": links,
            "timeline_directions": DIRECTIONS}  # fmt: skip


GIVE_VERBS = ("thank", "help", "feature", "gift", "introduce", "welcome", "invite", "offer")
ASK_VERBS = ("ask", "attend", "sign", "donate", "volunteer", "share", "register")


def person_forms(person: dict[str, Any]) -> dict[str, Any]:
    """What the person page's forms offer: verbs to record a give or an ask with, the flags,
    and the channels they can opt out of (their identities' platforms, and any opted out)."""
    channels = dict.fromkeys(i.split(":", 1)[0] for i in person["identities"])
    channels.update(dict.fromkeys(person.get("opt_outs", [])))
    return {
        "give_verbs": GIVE_VERBS, "ask_verbs": ASK_VERBS,
        "flag_names": tuple(Flag), "optout_channels": tuple(channels),
    }  # fmt: skip
