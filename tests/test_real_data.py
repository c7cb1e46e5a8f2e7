"""Real edge lists of several shapes (../shared/data), imported whole."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from sqlalchemy import func, select

from karmabank.actions.importing import import_files
from karmabank.errors import ConfigError
from karmabank.store.open import Store
from karmabank.store.tables import Activity, Person
from tests.conftest import NOW, require_data

HIGGS_OPTIONS = {"org": "88", "verb_map": "RT=share,MT=mention,RE=reply"}


@pytest.mark.slow
def test_higgs_whole_file_then_rerun_imports_nothing(store: Store) -> None:
    path = require_data("higgs-twitter", "higgs-activity_time.txt.gz")
    r = import_files(store=store, fmt="edgelist", paths=[path], options=HIGGS_OPTIONS, now=NOW)
    assert r.imported + r.duplicates + r.skipped + r.quarantined == 563_069
    assert (r.skipped, r.skip_reasons, r.quarantined) == (7_588, {"self-loop": 7_588}, 0)
    assert r.imported == 563_069 - 7_588
    with store.sessions() as s:
        inbound = dict(
            s.execute(
                select(Activity.verb, func.count())
                .where(Activity.direction == "in")
                .group_by(Activity.verb)
            ).all()
        )
        # README: user 88 receives 35,988 interactions (self-loops of 88 excluded here)
        assert sum(inbound.values()) == 35_988 - _self_loops_of_88(path)
        assert set(inbound) == {"share", "mention", "reply"}
        # 304,691 users, of whom 493 appear only in (skipped) self-loops, and 88 is the org
        assert s.scalar(select(func.count()).select_from(Person)) == 304_691 - 493 - 1
    again = import_files(store=store, fmt="edgelist", paths=[path], options=HIGGS_OPTIONS, now=NOW)
    assert (again.imported, again.duplicates) == (0, r.imported)


def _self_loops_of_88(path: Path) -> int:
    with gzip.open(path, "rt") as f:
        return sum(1 for line in f if line.startswith("88 88 "))


@pytest.mark.slow
def test_konect_ucsocial_with_percent_header(sqlite_store: Store) -> None:
    path = require_data("opsahl-ucsocial", "out.opsahl-ucsocial")
    r = import_files(
        store=sqlite_store, fmt="edgelist", paths=[path], options={"org": "1624"}, now=NOW
    )
    # 59,835 messages, 36 lines repeated within the same second: all kept as distinct messages
    assert (r.imported, r.duplicates, r.skipped, r.quarantined) == (59_835, 0, 0, 0)
    with sqlite_store.sessions() as s:
        # README: user 1624 receives the most messages (558)
        assert (
            s.scalar(select(func.count()).select_from(Activity).where(Activity.direction == "in"))
            == 558
        )


@pytest.mark.slow
def test_konect_bitcoin_tabs_fractional_times_signed_weights(sqlite_store: Store) -> None:
    path = require_data("soc-sign-bitcoinotc", "out.soc-sign-bitcoinotc")
    r = import_files(
        store=sqlite_store, fmt="edgelist", paths=[path], options={"org": "24"}, now=NOW
    )
    assert r.rows_read == 35_592 and r.quarantined == 0
    with sqlite_store.sessions() as s:
        assert s.scalar(select(func.min(Activity.weight))) == -10.0
        assert s.scalar(select(func.max(Activity.weight))) == 10.0
        assert (
            s.scalar(select(func.count()).select_from(Activity).where(Activity.direction == "in"))
            == 535
        )


def test_a_static_network_is_refused_with_the_reason(sqlite_store: Store) -> None:
    path = require_data("higgs-twitter", "higgs-reply_network.edgelist.gz")
    with pytest.raises(ConfigError, match="does not look like a unix time"):
        import_files(store=sqlite_store, fmt="edgelist", paths=[path], options={}, now=NOW)
    # and with the columns named, a three-column file of times imports
    with sqlite_store.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Activity)) == 0
