"""`karmabank person REF` pages the whole timeline as the person page does (actions/timeline.py):
theirs first, the newest first, filtered by whose, direction and channel; the table says which
page of how many, `--json` carries the page, and every activity is on exactly one page. On
SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest

from karmabank.actions.importing import import_files
from karmabank.actions.recording import record_activity
from karmabank.model import Direction
from karmabank.store.open import Store
from tests.cli_helpers import run
from tests.conftest import NOW


@pytest.fixture
def popular(store: Store, tmp_path: Path) -> Store:
    """Ada: 23 comments toward us by email (a minute apart), 4 by blog, our 2 thanks; and 30
    replies from others to her (a popular person: the newest activity is theirs, not hers)."""
    rows = ["occurred_at,person,name,verb,direction,channel,text,target"]
    for i in range(30):
        at = (NOW - timedelta(hours=1, minutes=i)).strftime("%Y-%m-%dT%H:%M:%SZ")
        rows.append(f"{at},fan{i}@example.org,Fan {i},reply,peer,blog,to ada {i},ada@example.org")
    for i in range(4):
        at = (NOW - timedelta(days=3, minutes=i)).strftime("%Y-%m-%dT%H:%M:%SZ")
        rows.append(f"{at},ada@example.org,Ada Lovelace,comment,in,blog,blog {i},")
    f = tmp_path / "popular.csv"
    f.write_text("\n".join(rows) + "\n")
    import_files(store=store, fmt="csv", paths=[f], options={}, now=NOW)
    for i in range(23):
        record_activity(store=store, direction=Direction.IN, ref="ada@example.org",
                        verb="comment", at=NOW - timedelta(days=10, minutes=i), now=NOW,
                        text=f"mail {i}", channel="email")  # fmt: skip
    for i in range(2):
        record_activity(store=store, direction=Direction.GIVE, ref="ada@example.org",
                        verb="thank", at=NOW - timedelta(days=20, minutes=i), now=NOW,
                        text=f"thanks {i}", channel="email")  # fmt: skip
    return store


def person(capsys: pytest.CaptureFixture[str], store: Store, *options: str) -> dict:  # type: ignore[type-arg]
    r = run(capsys, "person", "ada@example.org", *options, "--json", "--db", store.url,
            "--now", NOW.isoformat())  # fmt: skip
    assert r.code == 0, r.err
    return json.loads(r.out)  # type: ignore[no-any-return]


def texts(d: dict) -> list[str]:  # type: ignore[type-arg]
    return [t["text"] for t in d["timeline"]]


def test_theirs_first_a_page_at_a_time_and_every_activity_once(
    popular: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    first = person(capsys, popular, "--per-page", "10")
    assert first["timeline_page"] == {
        "person_id": first["id"], "whose": "theirs", "direction": None, "channel": None,
        "offset": 0, "more": True, "total": 29, "channels": ["blog", "email"], "page": 1,
        "pages": 3, "per_page": 10,
    }  # fmt: skip
    assert texts(first)[:5] == ["blog 0", "blog 1", "blog 2", "blog 3", "mail 0"]  # not fans'
    seen: list[str] = []
    for page in (1, 2, 3):
        d = person(capsys, popular, "--per-page", "10", "--page", str(page))
        seen += texts(d)
        assert d["timeline_page"]["more"] == (page < 3)
    assert len(seen) == len(set(seen)) == 29  # 4 + 23 + 2, once each
    default = person(capsys, popular)
    assert default["timeline_page"]["per_page"] == 50 and texts(default) == seen  # one order


def test_filters_by_whose_direction_and_channel(
    popular: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    others = person(capsys, popular, "--whose", "others")
    assert others["timeline_page"]["total"] == 30
    assert {t["direction"] for t in others["timeline"]} == {"peer_in"}
    everything = person(capsys, popular, "--whose", "all", "--per-page", "5")
    assert everything["timeline_page"]["total"] == 59 and everything["timeline_page"]["pages"] == 12
    assert texts(everything)[0] == "to ada 0"  # the newest of all: a fan's reply
    gives = person(capsys, popular, "--direction", "give")
    assert texts(gives) == ["thanks 0", "thanks 1"]
    blog = person(capsys, popular, "--channel", "blog", "--direction", "in")
    assert texts(blog) == ["blog 0", "blog 1", "blog 2", "blog 3"]
    nothing = person(capsys, popular, "--channel", "forum")
    assert nothing["timeline"] == [] and nothing["timeline_page"]["pages"] == 1


def test_the_table_says_which_page_of_how_many_and_how_to_see_the_next(
    popular: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    r = run(capsys, "person", "ada@example.org", "--per-page", "10", "--page", "2",
            "--db", popular.url, "--now", NOW.isoformat())  # fmt: skip
    assert r.code == 0, r.err
    assert "timeline (theirs, the newest first): page 2 of 3, activities 11 to 20 of 29" in r.out
    assert "mail 6" in r.out and "mail 5 " not in r.out and "to ada" not in r.out
    assert "next page: karmabank person ada@example.org --page 3 --per-page 10" in r.out
    last = run(capsys, "person", "ada@example.org", "--per-page", "10", "--page", "3",
               "--whose", "theirs", "--db", popular.url, "--now", NOW.isoformat())  # fmt: skip
    assert "page 3 of 3, activities 21 to 29 of 29" in last.out and "next page" not in last.out
    mail = run(capsys, "person", "ada@example.org", "--channel", "email", "--whose", "all",
               "--per-page", "20", "--db", popular.url, "--now", NOW.isoformat())  # fmt: skip
    assert "timeline (everything, on email, the newest first): page 1 of 2" in mail.out
    assert re.search(r"next page: karmabank person ada@example.org --page 2 --per-page 20 "
                     r"--whose all --channel email", mail.out)  # fmt: skip


@pytest.mark.parametrize(
    ("options", "error"),
    [
        (("--page", "4", "--per-page", "10"), "--page must be from 1 to 3, not 4 (29 activities)"),
        (("--page", "0"), "--page must be 1 or more, not 0"),
        (("--per-page", "201"), "--per-page must be from 1 to 200, not 201"),
        (("--direction", "sideways"), "direction: one of in, give, ask, peer, not 'sideways'"),
        (("--whose", "mine"), "whose activity: one of theirs, others, all, not 'mine'"),
    ],
)
def test_a_wrong_page_or_filter_is_one_clear_line(
    popular: Store, capsys: pytest.CaptureFixture[str], options: tuple[str, ...], error: str
) -> None:
    r = run(capsys, "person", "ada@example.org", *options, "--db", popular.url,
            "--now", NOW.isoformat())  # fmt: skip
    assert r.code == 1 and "Traceback" not in r.err
    assert (r.out + r.err).strip().splitlines() == [f"error: {error}"]
