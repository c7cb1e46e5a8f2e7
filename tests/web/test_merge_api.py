"""The merge review through the API and the pages (FastAPI's TestClient over a real store,
SQLite and PostgreSQL): the stored suggestions listed without running the matcher, merging a
pair, `merge never`, the merges, unmerging; every refusal a clear 4xx with nothing changed; a
viewer reads but may not act, and gets no review page; hostile names escaped.

The suggestions are written here as the matcher stores them (`merge_suggestion` rows with its
evidence's shape, weights chosen so a rerun of the matcher would change them); one test runs
the real matcher (refresh)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from karmabank.actions.people import set_flag
from karmabank.actions.recording import record_activity
from karmabank.model import Direction, Flag
from karmabank.store.merges import Merge, MergeSuggestion
from karmabank.store.open import Store, open_store
from karmabank.store.tables import AuditLog
from tests.conftest import NOW
from tests.web.test_api import Site, _site, log_in

HOSTILE = '<img src=x onerror="alert(1)">Eve'
# (identity, name, channel, activities): persons 1-7 in this order
PEOPLE = (
    ("email:ngozi@example.org", "Ngozi Okafor", "blog", 3),
    ("mastodon:@ngozi@social.example", "Ngozi O.", "mastodon", 2),
    ("email:eve@example.org", HOSTILE, "blog", 1),
    ("github:eve", HOSTILE, "github", 1),
    ("x:riverbot", "River Bot", "x", 1),
    ("email:river@example.org", "River Bot", "blog", 1),
    ("email:bo@example.org", "Bo Brave", "blog", 1),
)


def evidence(*fields: tuple[str, str, float], prior: float = -11.0,
             same_platform: str | None = None) -> dict[str, Any]:  # fmt: skip
    """Evidence in the matcher's shape (`merge_suggestions.evidence_json`)."""
    return {
        "fields": [{"field": f, "level": lv, "weight": w} for f, lv, w in fields],
        "match_weight": round(prior + sum(w for _, _, w in fields), 3),
        "same_platform": same_platform,
    }


NGOZI = evidence(("name", "initial and surname", 7.125), ("handle", "a handle in common", 9.0),
                 ("domain", "missing", 0.0))  # fmt: skip
EVE = evidence(("name", "same name", 9.25), ("handle", "a handle in common", 3.5),
               ("domain", "disagrees", -1.1), same_platform=None)  # fmt: skip


def seed(store: Store) -> None:
    """The seven persons, River Bot (5) a bot, and two open suggestions: Ngozi (1~2, 0.97,
    auto) and the hostile Eve (3~4, 0.61, review)."""
    for ref, name, channel, n in PEOPLE:
        for k in range(n):
            record_activity(store=store, direction=Direction.IN, ref=ref, verb="comment",
                            at=NOW - timedelta(days=k), now=NOW, name=name, channel=channel,
                            text=f"{name} says hi")  # fmt: skip
    set_flag(store=store, ref="x:riverbot", flag=Flag.BOT, on=True, now=NOW, actor="test")
    with store.sessions.begin() as session:
        for a, b, confidence, ev, action in ((1, 2, 0.97, NGOZI, "auto"),
                                             (3, 4, 0.61, EVE, "review")):  # fmt: skip
            session.add(MergeSuggestion(person_a=a, person_b=b, confidence=confidence,
                                        evidence=json.dumps(ev), action=action, status="open",
                                        created_at=NOW, source=None))  # fmt: skip


@pytest.fixture
def site(db_url: str) -> Iterator[Site]:
    with open_store(db_url) as store:
        seed(store)
    yield from _site(db_url)


def counts(site: Site) -> tuple[int, int, int]:
    """(merges, open suggestions, audit entries): what a refused call must not change."""
    with open_store(site.db) as store, store.sessions() as session:
        return (
            session.scalar(select(func.count()).select_from(Merge)) or 0,
            session.scalar(select(func.count()).select_from(MergeSuggestion)
                           .where(MergeSuggestion.status == "open")) or 0,
            session.scalar(select(func.count()).select_from(AuditLog)) or 0,
        )  # fmt: skip


def test_suggestions_are_the_stored_ones_with_each_person_at_a_glance(site: Site) -> None:
    r = site.client.get("/api/merge-suggestions", headers=site.as_("viewer"))
    assert r.status_code == 200, r.text
    page = r.json()
    assert (page["total"], page["offset"], page["limit"], page["next_offset"]) == (2, 0, 50, None)
    ngozi, eve = page["items"]
    assert (ngozi["a"]["id"], ngozi["b"]["id"], ngozi["confidence"], ngozi["action"]) == (
        1, 2, 0.97, "auto")  # fmt: skip
    assert ngozi["evidence"] == NGOZI  # as stored: the matcher did not run (it would reweigh)
    assert ngozi["a"] | {"last_activity_at": None} == {
        "id": 1, "name": "Ngozi Okafor", "identities": ["email:ngozi@example.org"],
        "flags": [], "activities": 3, "last_activity_at": None,
        "channels": [{"channel": "blog", "activities": 3}],
    }  # fmt: skip
    assert ngozi["a"]["last_activity_at"].startswith(NOW.date().isoformat())
    assert ngozi["b"]["channels"] == [{"channel": "mastodon", "activities": 2}]
    assert eve["a"]["name"] == HOSTILE and eve["evidence"]["same_platform"] is None
    assert "<img" not in r.text  # JSON answers escape < > &
    first = site.client.get("/api/merge-suggestions?limit=1", headers=site.as_("viewer")).json()
    assert [i["id"] for i in first["items"]] == [ngozi["id"]] and first["next_offset"] == 1
    rest = site.client.get("/api/merge-suggestions?limit=1&offset=1",
                           headers=site.as_("viewer")).json()  # fmt: skip
    assert [i["id"] for i in rest["items"]] == [eve["id"]] and rest["next_offset"] is None
    sure = site.client.get("/api/merge-suggestions?min_confidence=0.9", headers=site.as_("viewer"))
    assert [i["id"] for i in sure.json()["items"]] == [ngozi["id"]] and sure.json()["total"] == 1
    for bad in ("min_confidence=1.5", "min_confidence=nan", "limit=0", "offset=-1"):
        r = site.client.get(f"/api/merge-suggestions?{bad}", headers=site.as_("viewer"))
        assert r.status_code == 422, (bad, r.text)


def test_merge_a_suggested_pair_and_unmerge_it(site: Site) -> None:
    org = site.as_("organizer")
    r = site.client.post("/api/merges", json={"a": "id:1", "b": "mastodon:@ngozi@social.example",
                                              "why": "she said so"}, headers=org)  # fmt: skip
    assert r.status_code == 201, r.text
    merged = r.json()
    assert merged["persons"]["kept"]["id"] == 2 and merged["persons"]["absorbed"]["id"] == 1
    assert merged["decided_by"] == "web:organizer@example.org" and merged["why"] == "she said so"
    assert merged["confidence"] == 0.97 and merged["evidence"] == NGOZI  # the suggestion's word
    assert merged["undone_at"] is None
    listed = site.client.get("/api/merge-suggestions", headers=org).json()
    assert [i["a"]["id"] for i in listed["items"]] == [3]
    assert site.client.get("/api/people/id:1", headers=org).status_code == 404
    kept = site.client.get("/api/people/id:2", headers=org).json()
    assert set(kept["identities"]) == {"email:ngozi@example.org", "mastodon:@ngozi@social.example"}
    assert [m["id"] for m in site.client.get("/api/merges", headers=org).json()] == [merged["id"]]

    r = site.client.post(f"/api/merges/{merged['id']}/unmerge", headers=org)
    assert r.status_code == 200, r.text
    assert r.json()["undone_at"] is not None
    back = site.client.get("/api/people/id:1", headers=org).json()
    assert back["identities"] == ["email:ngozi@example.org"] and back["name"] == "Ngozi Okafor"
    assert site.client.get("/api/people/id:2", headers=org).json()["identities"] == [
        "mastodon:@ngozi@social.example"]  # fmt: skip
    listed = site.client.get("/api/merge-suggestions", headers=org).json()
    assert [i["a"]["id"] for i in listed["items"]] == [1, 3]  # open again
    assert site.client.get("/api/merges?undone=false", headers=org).json() == []
    before = counts(site)
    again = site.client.post(f"/api/merges/{merged['id']}/unmerge", headers=org)
    assert again.status_code == 409 and "already undone" in again.json()["detail"]
    assert counts(site) == before


@pytest.mark.parametrize(
    ("body", "status", "detail"),
    [
        ({"a": "id:1", "b": "id:99"}, 404, "no person with id 99"),
        ({"a": "email:nobody@example.org", "b": "id:1"}, 404, "no person with the identity"),
        ({"a": "id:1", "b": "email:ngozi@example.org"}, 409, "the same person"),
        ({"a": "x:riverbot", "b": "email:river@example.org"}, 409, "is a bot"),
        ({"a": "id:1", "b": ""}, 422, "String should have at least 1 character"),
    ],
)
def test_a_refused_merge_is_one_clear_4xx_and_changes_nothing(
    site: Site, body: dict[str, str], status: int, detail: str
) -> None:
    before = counts(site)
    r = site.client.post("/api/merges", json=body, headers=site.as_("organizer"))
    assert r.status_code == status, r.text
    assert detail in json.dumps(r.json()["detail"]), r.text
    assert counts(site) == before


def test_unmerging_an_unknown_merge_and_a_viewer_acting_are_refused(site: Site) -> None:
    before = counts(site)
    r = site.client.post("/api/merges/7/unmerge", headers=site.as_("owner"))
    assert r.status_code == 404
    assert r.json() == {"detail": "no merge with id '7' (see `merge list`)"}
    viewer = site.as_("viewer")
    for path, body in (("/api/merges", {"a": "id:1", "b": "id:2"}), ("/api/merges/1/unmerge", None),
                       ("/api/merge-never", {"a": "id:1", "b": "id:2"}),
                       ("/api/merge-suggestions/refresh", None)):  # fmt: skip
        r = site.client.post(path, json=body, headers=viewer)
        assert r.status_code == 403 and r.json()["detail"] == "a viewer may not write", path
    assert counts(site) == before


def test_not_the_same_rejects_the_suggestion_and_refuses_a_later_merge(site: Site) -> None:
    org = site.as_("organizer")
    r = site.client.post("/api/merge-never", json={"a": "id:4", "b": "id:3", "why": "twins"},
                         headers=org)  # fmt: skip
    assert r.status_code == 200, r.text
    assert (r.json()["a"]["id"], r.json()["b"]["id"], r.json()["why"]) == (3, 4, "twins")
    listed = site.client.get("/api/merge-suggestions", headers=org).json()
    assert [i["a"]["id"] for i in listed["items"]] == [1]
    refused = site.client.post("/api/merges", json={"a": "id:3", "b": "id:4"}, headers=org)
    assert refused.status_code == 409 and "never to merge" in refused.json()["detail"]
    same = site.client.post("/api/merge-never", json={"a": "id:3", "b": "id:3"}, headers=org)
    assert same.status_code == 409 and "the same person" in same.json()["detail"]


# -- the pages ----------------------------------------------------------------------------------


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([0-9a-f]+)"', html)
    assert found is not None
    return found.group(1)


def test_the_review_page_merges_and_the_person_page_unmerges(site: Site) -> None:
    assert log_in(site.client, "organizer@example.org").status_code == 303
    page = site.client.get("/merge-review")
    assert page.status_code == 200, page.text
    assert 'href="/merge-review" aria-current="page"' in page.text  # in the nav
    assert "1–2 of 2 open suggestions" in page.text
    assert HOSTILE not in page.text
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;Eve" in page.text
    assert page.text.index("suggestion-1") < page.text.index("suggestion-2")  # most likely first
    assert "+7.1" in page.text and "+9.0" in page.text and "-11.0" in page.text  # prior shown
    token = _csrf(page.text)
    pair = {"a": "id:1", "b": "id:2"}
    forged = site.client.post("/merge-review/merge", data=pair)
    assert forged.status_code == 403 and "CSRF" in forged.text
    done = site.client.post("/merge-review/merge", data={**pair, "csrf_token": token})
    assert done.status_code == 303 and done.headers["location"] == "/merge-review?merged=1"
    after = site.client.get(done.headers["location"]).text
    assert 'id="merged-note"' in after and "suggestion-1" not in after

    old_link = site.client.get("/people/id:1")  # the absorbed person's page: the kept one's
    assert old_link.status_code == 303 and old_link.headers["location"] == "/people/id:2?absorbed=1"
    assert 'id="absorbed-note"' in site.client.get(old_link.headers["location"]).text
    assert 'id="absorbed-note"' not in site.client.get("/people/id:2?absorbed=3").text
    person = site.client.get("/people/id:2").text
    assert 'id="merged-from"' in person and "Ngozi Okafor" in person
    assert 'action="/merges/1/unmerge"' in person and "by web:organizer@example.org" in person
    undone = site.client.post("/merges/1/unmerge", data={"csrf_token": token})
    assert undone.status_code == 303 and undone.headers["location"] == "/people/id:2?unmerged=1"
    back = site.client.get(undone.headers["location"]).text
    assert 'id="unmerged-note"' in back and 'href="/people/id:1"' in back
    assert 'id="merged-from"' not in back
    assert site.client.get("/people/id:1").status_code == 200  # back: no redirect
    assert site.client.get("/people/id:99").status_code == 404
    again = site.client.post("/merges/1/unmerge", data={"csrf_token": token})
    assert again.status_code == 409 and "already undone" in again.text

    never = site.client.post("/merge-review/never", data={"a": "id:3", "b": "id:4",
                                                          "csrf_token": token})  # fmt: skip
    assert never.headers["location"] == "/merge-review?apart_a=3&apart_b=4"
    listed = site.client.get(never.headers["location"]).text
    assert 'id="apart-note"' in listed and "suggestion-2" not in listed


def test_a_viewer_gets_no_review_page_no_link_and_no_unmerge(site: Site) -> None:
    with open_store(site.db) as store:
        from karmabank.actions.merging import merge_people

        merge_people(store=store, a="id:1", b="id:2", now=NOW, decided_by="test")
    assert log_in(site.client, "viewer@example.org").status_code == 303
    home = site.client.get("/")
    assert "/merge-review" not in home.text
    r = site.client.get("/merge-review")
    assert r.status_code == 403 and "a viewer may not review merges" in r.text
    person = site.client.get("/people/id:2").text
    assert 'id="merged-from"' in person and "/unmerge" not in person  # seen, no button
    token = _csrf(home.text)
    before = counts(site)
    for path in ("/merges/1/unmerge", "/merge-review/refresh", "/merge-review/merge"):
        r = site.client.post(path, data={"csrf_token": token, "a": "id:3", "b": "id:4"})
        assert r.status_code == 403, (path, r.text)
    assert counts(site) == before


def test_refresh_runs_the_matcher(db_url: str) -> None:
    """The one test of the real matcher here: a pair it cannot miss (the same rare name and
    the same handle on two platforms) becomes an open suggestion; the stored ones stay."""
    with open_store(db_url) as store:
        for ref in ("email:zanele.mbeki@example.org", "github:zanele-mbeki"):
            record_activity(store=store, direction=Direction.IN, ref=ref, verb="comment", at=NOW,
                            now=NOW, name="Zanele Mbeki")  # fmt: skip
    for site in _site(db_url):
        org = site.as_("organizer")
        assert site.client.get("/api/merge-suggestions", headers=org).json()["total"] == 0
        r = site.client.post("/api/merge-suggestions/refresh", headers=org)
        assert r.status_code == 200, r.text
        names = [(i["a"]["name"], i["b"]["name"]) for i in r.json()["items"]]
        assert names == [("Zanele Mbeki", "Zanele Mbeki")]


def test_a_source_stated_link_shows_its_file_line_and_identities_escaped(site: Site) -> None:
    """A suggestion an import wrote (`actions/source_links.py`'s evidence: a `source` field and
    where it was stated) shows as a sentence, not as a matcher's field with a prior."""
    stated = {
        "fields": [{"field": "source", "level": "the source linked them", "weight": 6.629}],
        "match_weight": 6.629, "same_platform": None,
        "source": {"file": "<b>links</b>.csv", "line": 3,
                   "identities": ["email:bo@example.org", "web:https://bo.example/<i>"]},
    }  # fmt: skip
    with open_store(site.db) as store, store.sessions.begin() as session:
        session.add(MergeSuggestion(person_a=6, person_b=7, confidence=0.99, action="review",
                                    evidence=json.dumps(stated), status="open", created_at=NOW,
                                    source="{}"))  # fmt: skip
    api = site.client.get("/api/merge-suggestions", headers=site.as_("viewer")).json()
    assert api["items"][0]["evidence"] == stated  # every key passes through, typed or not
    assert log_in(site.client, "owner@example.org").status_code == 303
    text = site.client.get("/merge-review").text
    card = text[text.index('id="suggestion-3"') :]
    assert "&lt;b&gt;links&lt;/b&gt;.csv line 3 states" in card and "<b>links" not in card
    assert (
        "<code>email:bo@example.org</code> and <code>web:https://bo.example/&lt;i&gt;</code>"
        in card
    )
    assert "(+6.6)" in card and "prior" not in card[: card.index("</li>")]
