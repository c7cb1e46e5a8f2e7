"""Hostile but well-formed input to the API and the pages, on SQLite and PostgreSQL: numbers
beyond any id, identity references urllib cannot parse, lone surrogates in JSON bodies, and
names outside ASCII. Every answer is a 4xx with a clear message, never a 500."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from karmabank.actions.accounts import Role
from tests.web.test_api import Site, _site, log_in

HUGE = "99999999999999999999"  # beyond int64
JUST_BEYOND = str(2**31)  # beyond an integer id on PostgreSQL
BAD_REFS = ("web:http://[::1", "http://[::1", "web:http://[::1]:99999", "github:https://[x")


@pytest.fixture
def site(db_url: str) -> Iterator[Site]:
    yield from _site(db_url)


def _json(site: Site, method: str, path: str, body: str) -> tuple[int, str]:
    """Send `body` as it is written (a `\\ud800` escape stays an escape on the wire)."""
    headers = {**site.as_("organizer"), "content-type": "application/json"}
    r = site.client.request(method, path, content=body.encode("ascii"), headers=headers)
    return r.status_code, r.text


def _seed(site: Site) -> None:
    org = site.as_("organizer")
    ada = {"direction": "in", "person": "email:ada@example.org", "verb": "comment",
           "name": "Émile Zola"}  # fmt: skip
    assert site.client.post("/api/activities", json=ada, headers=org).status_code == 201
    issue = {"name": "Été propre", "keywords": ["river"]}
    assert site.client.post("/api/issues", json=issue, headers=org).status_code == 201
    campaign = {"name": "Grand Ménage", "action": "share", "budget": 2}
    assert site.client.post("/api/campaigns", json=campaign, headers=org).status_code == 201


def test_ids_beyond_any_stored_id_are_not_found(site: Site) -> None:
    _seed(site)
    org = site.as_("organizer")
    for ref in (HUGE, JUST_BEYOND, "9223372036854775808", "1" * 300):
        r = site.client.get(f"/api/people/{ref}", headers=org)
        assert r.status_code == 404 and r.json() == {"detail": f"no person with id {ref}"}, r.text
        r = site.client.post(f"/api/people/{ref}/flags", json={"flag": "team"}, headers=org)
        assert r.status_code == 404, r.text
        record = {"direction": "give", "person": ref, "verb": "thank"}
        r = site.client.post("/api/activities", json=record, headers=org)
        assert r.status_code in (404, 422) and "detail" in r.json(), r.text
        for method, path in (("GET", f"/api/campaigns/{ref}"),
                             ("POST", f"/api/campaigns/{ref}/plan"),
                             ("POST", f"/api/campaigns/{ref}/send")):  # fmt: skip
            r = site.client.request(method, path, headers=org)
            assert r.status_code == 404 and "no campaign" in r.json()["detail"], (path, r.text)
        r = site.client.get("/api/influencers", params={"issue": ref}, headers=org)
        assert r.status_code == 400 and "no issue" in r.json()["detail"], r.text
    answer = {"person": HUGE, "response": "yes"}
    r = site.client.post("/api/campaigns/Grand Ménage/responses", json=answer, headers=org)
    assert r.status_code == 404 and r.json()["detail"] == f"no person with id {HUGE}", r.text
    for item in (HUGE, JUST_BEYOND):
        r = site.client.post(f"/api/nurture/{item}/done", headers=org)
        assert r.status_code == 422 and "item_id" in r.text, r.text


def test_digits_that_are_not_ascii_are_names_not_ids(site: Site) -> None:
    """`²` and `١٢٣` are digits to str.isdigit() but not to int(): they are looked up as names."""
    org = site.as_("organizer")
    for ref in ("²", "١٢٣"):
        r = site.client.get(f"/api/people/{ref}", headers=org)
        assert r.status_code == 404 and r.json()["detail"].startswith("no person named"), r.text
        r = site.client.get("/api/influencers", params={"issue": ref}, headers=org)
        assert r.status_code == 400 and "no issue" in r.json()["detail"], r.text
        r = site.client.get(f"/api/campaigns/{ref}", headers=org)
        assert r.status_code == 404, r.text


def test_identity_references_urllib_cannot_parse_are_refused(site: Site) -> None:
    _seed(site)
    org = site.as_("organizer")
    for ref in BAD_REFS:
        r = site.client.get(f"/api/people/{ref}", headers=org)
        assert r.status_code == 400 and r.json()["detail"].startswith("not a URL"), r.text
        r = site.client.post(f"/api/people/{ref}/flags", json={"flag": "bot"}, headers=org)
        assert r.status_code == 400 and r.json()["detail"].startswith("not a URL"), r.text
        record = {"direction": "in", "person": ref, "verb": "comment"}
        r = site.client.post("/api/activities", json=record, headers=org)
        assert r.status_code == 400 and r.json()["detail"].startswith("not a URL"), r.text
        answer = {"person": ref, "response": "yes"}
        r = site.client.post("/api/campaigns/Grand Ménage/responses", json=answer, headers=org)
        assert r.status_code == 400 and r.json()["detail"].startswith("not a URL"), r.text
    r = site.client.get("/api/people/web:http://[::1]:99999", headers=org)
    assert "Port out of range" in r.json()["detail"]
    assert site.client.get("/api/people", headers=org).json()["items"][0]["name"] == "Émile Zola"


SURROGATE_BODIES = (
    ("POST", "/api/activities",
     '{"direction": "in", "person": "email:a@example.org", "verb": "comment", "text": "\\ud800"}'),
    ("POST", "/api/activities",
     '{"direction": "in", "person": "email:a\\udc00@example.org", "verb": "comment"}'),
    ("POST", "/api/issues", '{"name": "\\ud800", "keywords": ["river"]}'),
    ("POST", "/api/issues", '{"name": "river", "keywords": ["\\udfff"]}'),
    ("POST", "/api/campaigns", '{"name": "x\\ud800", "action": "share", "budget": 1}'),
    ("POST", "/api/people/1/flags", '{"flag": "team\\ud800"}'),
    ("POST", "/api/campaigns/x/responses", '{"person": "\\ud800", "response": "yes"}'),
)  # fmt: skip


def test_a_lone_surrogate_in_a_json_body_is_422(site: Site) -> None:
    for method, path, body in SURROGATE_BODIES:
        status, text = _json(site, method, path, body)
        assert status == 422, (path, body, text)
        assert "valid string" in text or "Input should be" in text, text
    status, text = _json(site, "POST", "/api/users", '{"email": "\\ud800@x.org", "role": "viewer"}')
    assert status == 403  # an organizer may not add users: refused before the body is read
    headers = {**site.as_("owner"), "content-type": "application/json"}
    r = site.client.post("/api/users", content=b'{"email": "a\\ud800@x.org", "role": "viewer"}',
                         headers=headers)  # fmt: skip
    assert r.status_code == 422 and r.json()["detail"][0]["input"] == "a\\ud800@x.org", r.text
    assert site.client.get("/api/issues", headers=site.as_("viewer")).json() == []


def test_a_number_json_cannot_write_back_is_422(site: Site) -> None:
    """`1e999` parses as infinity: the answer that refuses it must still be JSON."""
    body = '{"direction": "in", "person": "email:a@example.org", "verb": "like", "weight": 1e999}'
    status, text = _json(site, "POST", "/api/activities", body)
    assert status == 422 and "finite number" in text and '"input":"inf"' in text, text


def test_non_ascii_names_are_found_in_any_case_and_kept_unique(site: Site) -> None:
    _seed(site)
    org = site.as_("organizer")
    for name in ("Été propre", "ÉTÉ PROPRE", "été  propre"):
        r = site.client.post("/api/issues", json={"name": name, "keywords": ["x"]}, headers=org)
        assert r.status_code == 400, r.text
        shown = " ".join(name.split())  # an answer's detail is one line, its spaces collapsed
        assert r.json()["detail"] == f"an issue named {shown!r} already exists (id 1)"
    for ref in ("Émile Zola", "émile zola", "ÉMILE ZOLA"):
        r = site.client.get(f"/api/people/{ref}", headers=org)
        assert r.status_code == 200 and r.json()["name"] == "Émile Zola", r.text
    for q in ("émile", "ÉMILE", "Zola", "ile zo"):
        found = site.client.get("/api/people", params={"q": q}, headers=org).json()["items"]
        assert [p["name"] for p in found] == ["Émile Zola"], q
    for q in ("emile", "%", "_mile"):  # accents count; LIKE's wildcards are plain characters
        assert site.client.get("/api/people", params={"q": q}, headers=org).json()["items"] == []
    r = site.client.get("/api/influencers", params={"issue": "ÉTÉ PROPRE"}, headers=org)
    assert r.status_code == 200 and r.json()["issue"]["name"] == "Été propre", r.text
    again = {"name": "GRAND MÉNAGE", "action": "share", "budget": 2}
    r = site.client.post("/api/campaigns", json=again, headers=org)
    assert r.status_code == 400 and "already exists" in r.json()["detail"], r.text
    r = site.client.get("/api/campaigns/grand ménage", headers=org)
    assert r.status_code == 200 and r.json()["campaign"]["name"] == "Grand Ménage", r.text


# -- the pages -----------------------------------------------------------------------------------


@pytest.fixture
def browser(site: Site) -> Iterator[tuple[TestClient, str]]:
    """The site's store seeded, and its client logged in as an organizer by the login form
    (the API calls above send a bearer token; pages go by the session cookie alone)."""
    _seed(site)
    client = site.client
    assert log_in(client, f"{Role.ORGANIZER.value}@example.org").status_code == 303
    found = re.search(r'name="csrf_token" value="([0-9a-f]+)"', client.get("/").text)
    assert found is not None
    yield client, found.group(1)


def test_the_pages_answer_hostile_values_with_an_error_page(
    browser: tuple[TestClient, str],
) -> None:
    client, token = browser
    for ref in (HUGE, JUST_BEYOND):
        r = client.get(f"/people/{ref}")
        assert r.status_code == 404 and f"no person with id {ref}" in r.text, r.text
        r = client.get("/campaigns", params={"name": ref})
        assert r.status_code == 404 and "no campaign" in r.text, r.text
        r = client.get("/influencers", params={"issue": ref})
        assert r.status_code == 400 and "no issue" in r.text
        r = client.post(f"/nurture/{ref}/skip", data={"csrf_token": token})
        assert r.status_code == 422, r.text
    for ref in BAD_REFS:
        r = client.get(f"/people/{ref}")
        assert r.status_code == 400 and "not a URL" in r.text, r.text
        form = {"csrf_token": token, "name": "Grand Ménage", "person": ref, "response": "yes"}
        r = client.post("/campaigns/respond", data=form)
        assert r.status_code == 400 and "not a URL" in r.text, r.text
    r = client.get("/people/émile zola")
    assert r.status_code == 200 and "Émile Zola" in r.text
    assert "Émile Zola" in client.get("/people", params={"q": "ÉMILE"}).text
    assert client.get("/campaigns", params={"name": "GRAND MÉNAGE"}).status_code == 200
    form = {"csrf_token": token, "name": "grand ménage", "action": "share", "budget": "2"}
    r = client.post("/campaigns", data=form)
    assert r.status_code == 400 and "already exists" in r.text, r.text
    # NUL characters in a page's query, path or form fields are refused as in the API, before
    # a database sees them (SQLite stored them, PostgreSQL cannot)
    for path in ("/people?q=a%00", "/people/a%00b", "/campaigns?name=%00", "/influencers?issue=%00"):
        r = client.get(path)
        assert r.status_code == 422 and "must not contain NUL characters" in r.text, path
    for path, form in (
        ("/campaigns", {"name": "x\x00", "action": "share", "budget": "2"}),
        ("/campaigns", {"name": "x", "action": "share", "budget": "2", "issue": "\x00"}),
        ("/campaigns/plan", {"name": "\x00"}),
        ("/campaigns/respond", {"name": "Grand Ménage", "person": "a\x00", "response": "yes"}),
    ):  # fmt: skip
        r = client.post(path, data={"csrf_token": token, **form})
        assert r.status_code == 422 and "must not contain NUL characters" in r.text, (path, form)
    # bytes that are not UTF-8 in a form or a query string reach no database
    raw = f"csrf_token={token}&name=%ED%A0%80&action=share&budget=2".encode()
    r = client.post("/campaigns", content=raw,
                    headers={"content-type": "application/x-www-form-urlencoded"})  # fmt: skip
    assert 300 <= r.status_code < 500, r.text
    assert client.get("/people?q=%ED%A0%80").status_code == 200
    assert client.get("/people/%ED%A0%80").status_code == 404


def test_a_login_email_with_a_nul_is_refused_before_any_lookup(site: Site) -> None:
    from tests.web.test_api import login_token

    token = login_token(site.client)
    form = {"email": "owner@example.org\x00", "password": "x", "csrf_token": token, "next": "/"}
    r = site.client.post("/login", data=form)
    assert r.status_code == 422 and "must not contain NUL characters" in r.text, r.text
