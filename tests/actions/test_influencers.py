"""Influencers through the real store on SQLite and PostgreSQL: warmth is ranked among the
people in a circle (not among everyone, most of whom never came toward us), and no sentence or
listing says "100%"."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from karmabank.actions.importing import import_files
from karmabank.actions.influencers import find_influencers
from karmabank.measures.influence import shown_percent
from karmabank.measures.settings import MeasureSettings
from karmabank.store.open import Store
from tests.conftest import NOW

S = MeasureSettings()


def iso(days_ago: float) -> str:
    return (NOW - timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def network(store: Store, tmp_path: Path) -> Store:
    """Wanda comments often (the warmest), Milo a few times, Cole once long ago (the coldest
    in a circle). Eight people who never came toward us reply to each other's contacts: all
    eight to Cole (the most central), two to Wanda, one to Milo."""
    rows = ["occurred_at,person,name,verb,direction,channel,text,target"]
    for d in (2, 5, 9, 14, 20, 30):
        rows.append(f"{iso(d)},wanda@example.org,Wanda Warm,comment,in,blog,,")
    for d in (10, 40, 90):
        rows.append(f"{iso(d)},milo@example.org,Milo Mid,comment,in,blog,,")
    rows.append(f"{iso(200)},cole@example.org,Cole Cold,comment,in,blog,,")
    for i in range(8):
        rows.append(f"{iso(3 + i)},p{i}@example.org,Peer {i},reply,peer,blog,,cole@example.org")
    for i in (0, 1):
        rows.append(f"{iso(4 + i)},p{i}@example.org,Peer {i},reply,peer,blog,,wanda@example.org")
    rows.append(f"{iso(6)},p2@example.org,Peer 2,reply,peer,blog,,milo@example.org")
    f = tmp_path / "influencers.csv"
    f.write_text("\n".join(rows) + "\n")
    import_files(store=store, fmt="csv", paths=[f], options={}, now=NOW)
    return store


def test_warmth_is_ranked_among_the_people_in_a_circle(network: Store) -> None:
    found = find_influencers(store=network, now=NOW, settings=S, limit=20)
    by_name = {r["person"]["name"]: r for r in found.rows}
    order = [r["person"]["name"] for r in found.rows]
    # ranked among the 11 people, Cole (a little warmth, the most central) came second
    assert order[:2] == ["Wanda Warm", "Milo Mid"]
    wanda, milo, cole = by_name["Wanda Warm"], by_name["Milo Mid"], by_name["Cole Cold"]
    assert (wanda["warmth_pct"], milo["warmth_pct"], cole["warmth_pct"]) == (1.0, 0.5, 0.0)
    assert (wanda["reach_pct"], milo["reach_pct"], cole["reach_pct"]) == (0.9, 0.8, 1.0)
    assert cole["influence"] == 0.0 and wanda["influence"] == pytest.approx(0.9)
    assert wanda["why"] == (
        "the warmest of the 3 people in a circle and more central than 90% of the network"
    )
    assert milo["why"] == (
        "warmer than 50% of the people in a circle and more central than 80% of the network"
    )
    assert cole["why"] == (
        "warmer than 0% of the people in a circle and the most central in the network"
    )
    peer = by_name["Peer 0"]
    assert peer["warmth_pct"] == 0.0
    assert peer["why"] == (
        "in no circle (never came toward us) and more central than 0% of the network"
    )
    assert all("100%" not in r["why"] for r in found.rows)


def test_listings_never_show_100_percent() -> None:
    assert [shown_percent(p) for p in (1.0, 0.999, 0.995, 0.5, 0.0, None)] == [
        "top", "99%", "99%", "50%", "0%", "—",
    ]  # fmt: skip
