"""What every page says about time: the time the scores it shows were computed as of, and, when
the newest activity is far older than that (a historical data set: everyone would look dormant),
one note offering to view the network as of its last activity.

Viewing as of another day is the browser's choice, kept in a cookie (`GET /as-of?day=...` sets
it, `GET /as-of` clears it): the pages that read scores (home, people, a person and their
rhythm strip, influencers, charts) compute as of that day; forms that record something still
use the app's clock, and the API is not affected (it takes the app's time, as the CLI takes
`--now`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from fastapi import Request

from karmabank.actions.clock import stale_network
from karmabank.actions.scores import LastRescore
from karmabank.bounds import EARLIEST, LATEST
from karmabank.model import from_micros

if TYPE_CHECKING:
    from karmabank.store.open import Store
    from karmabank.web.security import WebState

AS_OF_COOKIE = "kb_as_of"


def as_of_day(text: str | None) -> datetime | None:
    """A day `YYYY-MM-DD` as its midnight UTC, inside the supported range; None otherwise."""
    if text is None or len(text) != 10:
        return None
    try:
        day = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        return None
    return day if EARLIEST <= day < LATEST else None


def page_now(request: Request, state: WebState) -> datetime:
    """The time a page computes as of: the day the browser chose to view, else the app's."""
    return as_of_day(request.cookies.get(AS_OF_COOKIE)) or state.settings.clock()


def safe_next(target: str) -> str:
    """A path on this site to go back to (never another site: `//host` or `/\\host`)."""
    ok = target.startswith("/") and not target.startswith(("//", "/\\"))
    return target if ok and len(target) <= 2000 else "/"


def time_context(request: Request, store: Store | None, state: WebState) -> dict[str, Any]:
    """What base.html says about time: `scores_as_of` (the last rescore's time, or None before
    the first), `viewing` (the day the browser chose, or None), `stale_network` (or None)."""
    if store is None:
        return {"scores_as_of": None, "viewing": None, "stale_network": None}
    last = LastRescore.read(store)
    scored = None if last is None else from_micros(last.scored_at)
    viewing = as_of_day(request.cookies.get(AS_OF_COOKIE))
    return {
        "scores_as_of": None if scored is None else scored.strftime("%Y-%m-%d %H:%M UTC"),
        "viewing": None if viewing is None else viewing.date().isoformat(),
        "stale_network": stale_network(store, page_now(request, state)),
    }
