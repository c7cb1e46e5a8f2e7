"""The nurture queue's choice kept for a minute (`actions/nurture_cache.py`), on SQLite and
PostgreSQL: asked again with nothing changed, the queue is not chosen again; any change to what
the rules read, or a `now` outside the minute, chooses again, and the answer is always the one
a queue chosen afresh gives."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from karmabank.actions.importing import import_files
from karmabank.actions.issues import add_issue
from karmabank.actions.nurture import nurture_queue, nurture_skip
from karmabank.actions.opt_outs import set_opt_out
from karmabank.actions.people import set_flag
from karmabank.measures import nurture as measures_nurture
from karmabank.measures.settings import MeasureSettings, NurtureSettings
from karmabank.model import Flag
from karmabank.store import chart_cache
from karmabank.store.open import Store
from karmabank.store.tables import Person
from tests.conftest import NOW

S = MeasureSettings()


def iso(days_ago: float) -> str:
    return (NOW - timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def network(store: Store, tmp_path: Path) -> Store:
    rows = ["occurred_at,person,name,verb,direction,channel,object,text"]
    for k in range(30):
        rows.append(f"{iso(100 + 2 * k)},dee@example.org,Dee Dee,comment,in,blog,,")
    rows.append(f"{iso(2)},nia@example.org,Nia New,comment,in,blog,,Where do we meet?")
    rows.append(f"{iso(1)},gia@example.org,Gia Giver,donate,in,donations,,")
    rows.append(f"{iso(400)},gia@example.org,Gia Giver,like,in,blog,,")
    rows.append(f"{iso(3)},sam@example.org,Sam Share,like,in,mastodon,"
                "https://sam.example/river,Photos of the river cleanup")  # fmt: skip
    rows.append(f"{iso(60)},sam@example.org,Sam Share,comment,in,blog,,")
    f = tmp_path / "network.csv"
    f.write_text("\n".join(rows) + "\n")
    import_files(store=store, fmt="csv", paths=[f], options={}, now=NOW)
    return store


@pytest.fixture
def choices(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """One entry per time the queue was chosen (the real choice runs each time)."""
    made: list[int] = []
    real = measures_nurture.queue

    def counted(*args: Any, **kwargs: Any) -> Any:
        made.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(measures_nurture, "queue", counted)
    return made


def seen(store: Store, **kw: Any) -> list[tuple[str, str, str]]:
    kw.setdefault("now", NOW)
    kw.setdefault("settings", S)
    return [(i.person["name"], i.kind, i.reason) for i in nurture_queue(store=store, **kw)]


def afresh(store: Store, **kw: Any) -> list[tuple[str, str, str]]:
    chart_cache.drop_all(store.columns_dir)
    return seen(store, **kw)


def queue_files(store: Store) -> list[Path]:
    return sorted(store.columns_dir.glob(f"{chart_cache.PREFIX}*-queue_*.json"))


def test_asked_again_within_the_minute_the_choice_is_kept(
    network: Store, choices: list[int]
) -> None:
    first = seen(network)
    assert choices == [1] and len(queue_files(network)) == 1
    assert seen(network) == first
    assert seen(network, now=NOW + timedelta(seconds=59)) == first
    assert choices == [1]  # not chosen again
    assert seen(network, now=NOW + timedelta(seconds=60)) == first  # another minute
    earlier = NOW - timedelta(seconds=1)  # earlier than it was made: it may know less
    assert seen(network, now=earlier) == afresh(network, now=earlier)
    assert choices == [1, 1, 1, 1]
    assert len(queue_files(network)) == 1  # the previous choice went


def _flag(store: Store) -> None:
    set_flag(store=store, ref="gia@example.org", flag=Flag.DO_NOT_CONTACT, on=True, now=NOW,
             actor="test")  # fmt: skip


def _opt_out(store: Store) -> None:
    """Out of the only channel she has an identity on: nothing may be suggested for her."""
    set_opt_out(store=store, ref="nia@example.org", channel="email", on=True, now=NOW,
                actor="test")  # fmt: skip


def _issue(store: Store) -> None:
    add_issue(store=store, name="River cleanup", keywords=["river"], now=NOW)


def _skip(store: Store) -> None:
    item = next(i for i in nurture_queue(store=store, now=NOW, settings=S)
                if i.person["name"] == "Dee Dee")  # fmt: skip
    nurture_skip(store=store, item_id=item.id, now=NOW)


def _by_hand(store: Store) -> None:
    """A change no action made (no audit, no revision): the flag column itself."""
    with store.sessions.begin() as session:
        session.execute(update(Person).where(Person.name == "Dee Dee").values(bot=True))


@pytest.mark.parametrize("change", [_flag, _opt_out, _issue, _skip, _by_hand])
def test_a_change_to_what_the_rules_read_chooses_again(
    network: Store, choices: list[int], change: Callable[[Store], None]
) -> None:
    before = seen(network)
    change(network)
    made = len(choices)
    after = seen(network)
    assert len(choices) == made + 1  # chosen again
    assert after != before
    assert after == afresh(network)


def test_other_settings_or_limit_choose_again(network: Store, choices: list[int]) -> None:
    seen(network)
    seen(network, limit=1)
    quiet = MeasureSettings(nurture=NurtureSettings(window_days=3))
    assert seen(network, settings=quiet) == afresh(network, settings=quiet)
    assert len(choices) == 4


def test_an_unreadable_kept_choice_is_a_miss(network: Store, choices: list[int]) -> None:
    first = seen(network)
    for f in queue_files(network):
        f.write_text('{"at": "soon", "chosen": [')
    assert seen(network) == first
    assert choices == [1, 1]
