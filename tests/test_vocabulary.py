"""Verbs and channels: a known vocabulary or a documented custom rule (docs/importing.md), the
same at import (bad rows quarantined with file and line), in `record` and in the API."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from karmabank.actions.accounts import add_user, new_token
from karmabank.actions.importing import import_files
from karmabank.actions.recording import ActivityView, record_activity
from karmabank.errors import ConfigError
from karmabank.model import VERBS, Direction, check_channel, check_verb
from karmabank.sources.edgelist import EdgeListSource
from karmabank.store.open import Store
from karmabank.store.tables import Activity, Quarantine
from karmabank.web import WebSettings, create_app
from tests.conftest import NOW

CUSTOM = "a custom verb is x- and up to 30 lower-case letters, digits, _ or -"


def test_known_verbs_activitystreams_names_and_custom_verbs() -> None:
    assert check_verb(" Comment ") == "comment"
    assert check_verb("Announce") == "share" and check_verb("Join") == "attend"
    assert check_verb("X-Upvote") == "x-upvote" and check_verb("x-" + "a" * 30) == "x-" + "a" * 30
    assert {"check_in", "celebrate", "act", "interact"} <= VERBS  # what the product records
    for verb, reason in (
        ("donaet", f"unknown verb 'donaet' ({CUSTOM}, e.g. x-donaet)"),
        ("like[/]", f"unknown verb 'like[/]' ({CUSTOM}, e.g. x-like)"),
        ("x-" + "a" * 31, f"unknown verb 'x-{'a' * 31}' ({CUSTOM})"),
        ("x-", f"unknown verb 'x-' ({CUSTOM})"),
        ("  ", "missing verb"),
        ("y" * 1000, f"unknown verb '{'y' * 40}'… ({CUSTOM}, e.g. x-{'y' * 30})"),
    ):
        with pytest.raises(ValueError) as e:
            check_verb(verb)
        assert str(e.value) == reason


def test_channels_are_platforms_or_plain_names() -> None:
    assert (
        check_channel("Email") == "email" and check_channel("newsletter-2026") == "newsletter-2026"
    )
    assert check_channel("example.org") == "example.org" and check_channel("x" * 32) == "x" * 32
    for bad in ("[/]", "two words", "x" * 33, "-dash", "\x1b]8;;"):
        with pytest.raises(ValueError, match="is not a channel name"):
            check_channel(bad)


CSV = (
    "occurred_at,person,verb,direction,channel\n"
    "2026-05-01T10:00:00Z,ada@example.org,comment,in,blog\n"
    "2026-05-01T11:00:00Z,ada@example.org,Announce,in,Newsletter-2026\n"
    "2026-05-01T12:00:00Z,ada@example.org,x-upvote,in,forum\n"
    "2026-05-01T13:00:00Z,ada@example.org,upvote,in,forum\n"
    "2026-05-01T14:00:00Z,ada@example.org,like[/],in,\n"
    "2026-05-01T15:00:00Z,ada@example.org,like,in,[/]\n"
    "2026-05-01T16:00:00Z,ada@example.org,Like Now,in,\n"
)


def count(store: Store, model: type) -> int:
    with store.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_import_quarantines_unknown_verbs_and_channels_once(store: Store, tmp_path: Path) -> None:
    f = tmp_path / "acts.csv"
    f.write_text(CSV)
    first = import_files(store=store, fmt="csv", paths=[f], options={}, now=NOW)
    assert (first.imported, first.quarantined) == (3, 4)
    assert [(e.file, e.line, e.reason) for e in first.errors] == [
        (str(f), 5, f"unknown verb 'upvote' ({CUSTOM}, e.g. x-upvote)"),
        (str(f), 6, f"unknown verb 'like[/]' ({CUSTOM}, e.g. x-like)"),
        (str(f), 7, "channel '[/]' is not a channel name (a platform, or up to 32 lower-case "
                    "letters, digits, ., _ or -)"),
        (str(f), 8, f"unknown verb 'like now' ({CUSTOM}, e.g. x-like_now)"),
    ]  # fmt: skip
    with store.sessions() as s:
        stored = s.execute(select(Activity.verb, Activity.channel).order_by(Activity.id)).all()
        assert [tuple(r) for r in stored] == [
            ("comment", "blog"),
            ("share", "newsletter-2026"),
            ("x-upvote", "forum"),
        ]
        raw = s.scalar(select(Quarantine.raw).where(Quarantine.line == 5))
        assert raw == "2026-05-01T13:00:00+00:00,email:ada@example.org,,upvote,in,forum,,,,"
    again = import_files(store=store, fmt="csv", paths=[f], options={}, now=NOW)
    assert (again.imported, again.duplicates, again.quarantined) == (0, 3, 4)
    assert count(store, Activity) == 3 and count(store, Quarantine) == 4  # nothing twice


def test_edge_list_types_must_be_mapped_onto_verbs(store: Store, tmp_path: Path) -> None:
    f = tmp_path / "higgs.txt"
    f.write_text("5 88 1341100972 RT\n7 88 1341100973 MT\n9 88 1341100974 like\n")
    bare = import_files(store=store, fmt="edgelist", paths=[f], options={"org": "88"}, now=NOW)
    assert (bare.imported, bare.quarantined) == (1, 2)
    assert [(e.line, e.reason) for e in bare.errors] == [
        (1, f"unknown verb 'rt' ({CUSTOM}, e.g. x-rt)"),
        (2, f"unknown verb 'mt' ({CUSTOM}, e.g. x-mt)"),
    ]
    mapped = import_files(store=store, fmt="edgelist", paths=[f], now=NOW,
                          options={"org": "88", "verb_map": "RT=share,MT=x-mention"})  # fmt: skip
    assert (mapped.imported, mapped.duplicates, mapped.quarantined) == (2, 1, 0)
    with pytest.raises(ConfigError, match="--verb-map: unknown verb 'shaer'"):
        EdgeListSource({"verb_map": "RT=shaer"})


def test_record_refuses_an_unknown_verb_or_channel_with_the_verbs_there_are(
    store: Store,
) -> None:
    def record(verb: str, channel: str | None = None) -> ActivityView:
        return record_activity(store=store, direction=Direction.IN, ref="ada@example.org",
                               verb=verb, at=NOW, now=NOW, channel=channel)  # fmt: skip

    with pytest.raises(ConfigError) as e:
        record("donaet")
    assert str(e.value) == (
        f"unknown verb 'donaet' ({CUSTOM}, e.g. x-donaet); verbs: " + ", ".join(sorted(VERBS))
    )
    with pytest.raises(ConfigError, match="channel 'two words' is not a channel name"):
        record("like", "two words")
    assert count(store, Activity) == 0
    assert (record("Join", "Events").verb, record("x-upvote").channel) == ("attend", "email")
    assert record("like", " Forum ").channel == "forum"


def test_the_api_answers_400_for_an_unknown_verb(db_url: str) -> None:
    from karmabank.store.open import open_store

    with open_store(db_url) as store:
        add_user(store=store, email="o@example.org", role="organizer", now=NOW,
                 password="correct horse battery staple", actor="test")  # fmt: skip
        token = new_token(store=store, email="o@example.org", now=NOW)[1]
    with TestClient(create_app(WebSettings(db=db_url, now=NOW))) as client:
        r = client.post("/api/activities", headers={"Authorization": f"Bearer {token}"},
                        json={"direction": "in", "person": "ada@example.org", "verb": "x[/]"})  # fmt: skip
    assert r.status_code == 400
    assert r.json()["detail"].startswith(f"unknown verb 'x[/]' ({CUSTOM}, e.g. x-x); verbs: ")
