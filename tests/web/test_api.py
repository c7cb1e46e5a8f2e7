"""The web app through FastAPI's TestClient over a real store (SQLite and PostgreSQL): who may
call what (401, 403), CSRF on cookie requests and forms, sessions, the login rate limit,
security headers and escaping, and the API calling the same actions as the CLI."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from karmabank.actions.accounts import Role, add_user, new_token
from karmabank.store.open import open_store
from karmabank.store.tables import AuditLog
from karmabank.web import WebSettings, create_app
from karmabank.web.auth import safe_next
from karmabank.web.security import CSP
from tests.conftest import NOW

PASSWORD = "correct horse battery staple"
SCRIPT = "<script>alert(1)</script>"


@dataclass
class Site:
    app: FastAPI
    client: TestClient
    tokens: dict[str, str]
    db: str

    def as_(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


def _site(db: str, base_url: str = "http://testserver") -> Iterator[Site]:
    tokens = {}
    with open_store(db) as store:
        for role in Role:
            add_user(store=store, email=f"{role.value}@example.org", role=role.value, now=NOW,
                     password=PASSWORD, actor="test")  # fmt: skip
            tokens[role.value] = new_token(store=store, email=f"{role.value}@example.org",
                                           now=NOW)[1]  # fmt: skip
    app = create_app(WebSettings(db=db, now=NOW))
    with TestClient(app, base_url=base_url, follow_redirects=False) as client:
        yield Site(app, client, tokens, db)


@pytest.fixture
def site(db_url: str) -> Iterator[Site]:
    yield from _site(db_url)


def api_routes(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path with every parameter filled) of every API route the OpenAPI shows."""
    return [
        (method.upper(), re.sub(r"\{[^}]+\}", "1", path))
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    ]


def login_token(client: TestClient) -> str:
    page = client.get("/login")
    assert page.status_code == 200
    found = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page.text)
    assert found is not None
    return found.group(1)


def log_in(client: TestClient, email: str, password: str = PASSWORD) -> Any:
    token = login_token(client)
    return client.post(
        "/login", data={"email": email, "password": password, "csrf_token": token, "next": "/"}
    )


def test_every_api_route_answers_401_without_credentials(site: Site) -> None:
    routes = api_routes(site.app)
    assert len(routes) >= 20  # people, person, flags, activities, status, issues, nurture...
    for method, path in routes:
        r = site.client.request(method, path)
        assert r.status_code == 401, (method, path, r.text)
        assert r.headers["www-authenticate"] == "Bearer"
        assert r.json() == {"detail": "not authenticated: send a bearer token or log in"}
    bad = {"Authorization": "Bearer kb_not-a-token"}
    assert site.client.get("/api/people", headers=bad).status_code == 401
    site.client.cookies.set("kb_session", "made-up")
    assert site.client.get("/api/people").status_code == 401


def test_a_viewer_reads_and_may_not_write(site: Site) -> None:
    viewer = site.as_("viewer")
    for method, path in api_routes(site.app):
        r = site.client.request(method, path, headers=viewer)
        if method == "POST" or path in ("/api/users", "/api/tokens", "/api/export/1", "/api/audit"):
            assert r.status_code == 403, (method, path, r.text)
            assert r.json()["detail"].startswith("a viewer may not"), r.text
        else:
            assert r.status_code in (200, 404), (method, path, r.text)
    assert site.client.get("/api/people", headers=viewer).json()["items"] == []


def test_an_organizer_does_everything_but_manage_users(site: Site) -> None:
    org, owner = site.as_("organizer"), site.as_("owner")
    assert site.client.get("/api/users", headers=org).status_code == 403
    new = {"email": "Dee@Example.org", "role": "viewer"}
    assert site.client.post("/api/users", json=new, headers=org).status_code == 403
    r = site.client.post("/api/users", json=new, headers=owner)
    assert r.status_code == 201, r.text
    assert r.json()["email"] == "dee@example.org" and len(r.json()["password"]) >= 10
    emails = [u["email"] for u in site.client.get("/api/users", headers=owner).json()]
    assert emails == [f"{r.value}@example.org" for r in Role] + ["dee@example.org"]
    me = site.client.get("/api/me", headers=org).json()
    assert me == {"id": 2, "email": "organizer@example.org", "role": "organizer",
                  "permissions": ["read", "write"], "via": "token", "csrf_token": None}  # fmt: skip


def test_an_organizer_records_and_marks_nurture_done(site: Site) -> None:
    org = site.as_("organizer")
    comment = {"direction": "in", "person": "nia@example.org", "verb": "comment",
               "text": "Where do we meet?", "name": "Nia New"}  # fmt: skip
    r = site.client.post("/api/activities", json=comment, headers=org)
    assert r.status_code == 201, r.text
    assert r.json()["person_id"] > 0 and r.json()["occurred_at"] == "2026-06-01T12:00:00Z"
    before = site.client.get("/api/people/nia@example.org", headers=org).json()
    assert before["ledger"]["given"] == 0
    queue = site.client.get("/api/nurture", headers=org).json()
    item = next(i for i in queue if i["person"]["name"] == "Nia New")
    assert item["kind"] == "reply" and item["next_step"] == 'answer: "Where do we meet?"'
    done = site.client.post(f"/api/nurture/{item['id']}/done", headers=org)
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "done" and done.json()["activity"]["direction"] == "give"
    after = site.client.get("/api/people/nia@example.org", headers=org).json()
    assert after["ledger"]["given"] > before["ledger"]["given"]
    again = site.client.post(f"/api/nurture/{item['id']}/done", headers=org)
    assert again.status_code == 400
    assert again.json() == {"detail": f"nurture item {item['id']} is already done"}
    with open_store(site.db) as store, store.sessions() as session:
        actors = set(session.scalars(select(AuditLog.actor).where(AuditLog.action == "record")))
    assert actors == {"web:organizer@example.org"}


def test_people_filters_search_and_paging(site: Site) -> None:
    org = site.as_("organizer")
    for who in ("ann", "ben", "cat"):
        site.client.post("/api/activities", headers=org, json={
            "direction": "in", "person": f"{who}@example.org", "verb": "comment",
            "name": who.title(), "at": "2026-05-20T10:00:00Z",
        })  # fmt: skip
    first = site.client.get("/api/people?limit=2&sort=recent", headers=org).json()
    assert len(first["items"]) == 2 and first["next_offset"] == 2
    rest = site.client.get("/api/people?limit=2&offset=2&sort=recent", headers=org).json()
    assert len(rest["items"]) == 1 and rest["next_offset"] is None
    names = {p["name"] for p in first["items"] + rest["items"]}
    assert names == {"Ann", "Ben", "Cat"}
    found = site.client.get("/api/people?q=ben@", headers=org).json()["items"]
    assert [p["name"] for p in found] == ["Ben"]
    assert site.client.get("/api/people?circle=newcomers", headers=org).json()["items"]
    bad = site.client.get("/api/people?circle=best", headers=org)
    assert bad.status_code == 400 and bad.json()["detail"].startswith("unknown circle 'best'")


def test_campaigns_and_flags_through_the_api(site: Site) -> None:
    org = site.as_("organizer")
    for who in ("ann", "ben"):
        for direction, verb, at in (("in", "comment", "2026-05-01"), ("in", "comment", "2026-05-10"),
                                    ("give", "share", "2026-05-11"), ("give", "thank", "2026-05-12")):  # fmt: skip
            r = site.client.post("/api/activities", headers=org, json={
                "direction": direction, "person": f"{who}@example.org", "verb": verb, "at": at,
                "name": who.title(),
            })  # fmt: skip
            assert r.status_code == 201, r.text
    assert site.client.post("/api/issues", headers=org,
                            json={"name": "Rivers", "keywords": ["river"]}).status_code == 201  # fmt: skip
    new = {"name": "Spring/clean", "action": "share", "budget": 1, "issue": "Rivers"}
    assert site.client.post("/api/campaigns", json=new, headers=org).status_code == 201
    plan = site.client.post("/api/campaigns/Spring/clean/plan", headers=org).json()
    assert len(plan["asks"]) == 1 and plan["candidates"] == 2 and plan["excluded_count"] == 0
    sent = site.client.post("/api/campaigns/Spring/clean/send", headers=org).json()
    asked = sent["sent"][0]["identities"][0]
    r = site.client.post("/api/campaigns/Spring/clean/responses", headers=org,
                         json={"person": asked, "response": "acted"})  # fmt: skip
    assert r.status_code == 200 and r.json()["status"] == "acted", r.text
    shown = site.client.get("/api/campaigns/Spring/clean", headers=org).json()
    assert shown["funnel"] == {"planned": 1, "sent": 1, "yes": 1, "no": 0, "acted": 1,
                               "thanked": 0}  # fmt: skip
    flag = site.client.post("/api/people/ann@example.org/flags", headers=org,
                            json={"flag": "do_not_contact"})  # fmt: skip
    assert flag.json()["on"] is True
    ask = {"direction": "ask", "person": "ann@example.org", "verb": "ask"}
    refused = site.client.post("/api/activities", json=ask, headers=org)
    assert refused.status_code == 409
    assert refused.json() == {
        "detail": "Ann asked not to be contacted (do_not_contact): nothing recorded"
    }
    status = site.client.get("/api/status", headers=org).json()
    assert status["people"] == 2 and "share_ratio" in status


def test_errors_are_one_line_and_never_500(site: Site) -> None:
    org = site.as_("organizer")
    cases = {
        "/api/people/nobody@example.org": (404, "no person with the identity "
                                           "email:nobody@example.org"),
        "/api/campaigns/nope": (404, "no campaign 'nope' (see `karmabank campaign new`)"),
        "/api/people?now=yesterday": (400, "now: 'yesterday' is not an ISO-8601 time "
                                      "(e.g. 2026-05-01T12:00)"),
        "/api/people?now=9999-12-31T23:59:59-23:00": (400, "now out of range: "
                                                      "'9999-12-31T23:59:59-23:00' (supported: "
                                                      "1900-01-01 to 2200-01-01 UTC)"),
        "/api/influencers?issue=nothing": (400, "no issue 'nothing' (see `karmabank issue list`)"),
    }  # fmt: skip
    for path, (code, detail) in cases.items():
        r = site.client.get(path, headers=org)
        assert (r.status_code, r.json()) == (code, {"detail": detail}), path
    nul = site.client.get("/api/people?q=a%00b", headers=org)
    assert nul.status_code == 422


def test_only_writers_compute_as_of_another_time(site: Site) -> None:
    """A rescore at another `now` records ladder moves at that time: not for a viewer."""
    later = "/api/status?now=2026-07-01T00:00:00Z"
    refused = site.client.get(later, headers=site.as_("viewer"))
    assert refused.status_code == 403
    assert refused.json() == {"detail": "a viewer may not compute as of another time (now)"}
    assert site.client.get("/api/status", headers=site.as_("viewer")).status_code == 200
    r = site.client.get(later, headers=site.as_("organizer"))
    assert r.status_code == 200 and r.json()["scored_at"] == "2026-07-01T00:00:00Z"


def test_imported_text_comes_back_json_escaped(site: Site) -> None:
    org = site.as_("organizer")
    site.client.post("/api/activities", headers=org, json={
        "direction": "in", "person": "ada@example.org", "verb": "comment", "text": SCRIPT,
    })  # fmt: skip
    r = site.client.get("/api/people/ada@example.org", headers=org)
    assert r.headers["content-type"] == "application/json"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "<script>" not in r.text and "\\u003cscript\\u003e" in r.text
    assert r.json()["timeline"][0]["text"] == SCRIPT
    assert int(r.headers["content-length"]) == len(r.content)


def test_security_headers_on_every_kind_of_response(site: Site) -> None:
    for r in (
        site.client.get("/api/me", headers=site.as_("viewer")),
        site.client.get("/api/me"),
        site.client.get("/login"),
        site.client.get("/no/such/page"),
        site.client.get("/openapi.json"),
    ):
        assert r.headers["content-security-policy"].startswith("default-src 'self'")
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["referrer-policy"] == "same-origin"
        assert r.headers["cache-control"] == "no-store"
    docs = site.client.get("/docs")  # the strict policy too: the page needs no script
    assert docs.status_code == 200 and docs.headers["content-security-policy"] == CSP


def test_the_api_reference_page_works_offline(site: Site) -> None:
    """/docs is rendered on the server from the OpenAPI description: public like
    /openapi.json, no script, nothing from another site, and the role each operation needs."""
    r = site.client.get("/docs")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    assert "<script" not in html
    for tag in re.findall(r"<(?:link|img|iframe|source)\b[^>]*>", html):
        assert not re.search(r"(?:src|href)=\"(?:https?:)?//", tag), tag
    assert not re.search(r"<a [^>]*href=\"(?:https?:)?//", html)  # no link leaves the site
    for path in site.app.openapi()["paths"]:  # every operation, with its own section
        assert f"{path}</code></h3>" in html, path
    assert "/api/people/{ref}" in html and "/api/campaigns" in html

    def section(anchor: str) -> str:
        found = re.search(rf'<h3 id="{anchor}">(.*?)</article>', html, re.S)
        assert found is not None, anchor
        return found.group(1)

    assert "<dd>any role (viewer, organizer, owner)</dd>" in section("get-api-people-ref")
    assert "<dd>organizer or owner</dd>" in section("post-api-activities")
    assert "<dd>owner</dd>" in section("get-api-users") and "<dd>owner</dd>" in section(
        "post-api-users"
    )
    activities = section("post-api-activities")
    assert 'href="#schema-ActivityIn"' in activities and "<code>direction</code>" in activities
    assert "&#34;in&#34; | &#34;give&#34; | &#34;ask&#34;" in activities  # the allowed values
    snooze = section("post-api-nurture-item_id-snooze")
    assert "<code>days</code></td><td>query</td>" in snooze and "<td>422</td>" in snooze
    assert "karmabank token new EMAIL" in html and "X-CSRF-Token" in html and "curl " in html
    assert 'id="schema-CampaignRow"' in html
    assert site.client.get("/docs", headers=site.as_("viewer")).status_code == 200


def test_campaigns_are_listed_for_any_role(site: Site) -> None:
    org, viewer = site.as_("organizer"), site.as_("viewer")
    assert site.client.get("/api/campaigns", headers=viewer).json() == []
    for name, budget in (("First", 2), ("Second <i>", 5)):
        new = {"name": name, "action": "share", "budget": budget,
               "deadline": "2026-07-01T00:00:00Z"}  # fmt: skip
        assert site.client.post("/api/campaigns", json=new, headers=org).status_code == 201
    r = site.client.get("/api/campaigns", headers=viewer)
    assert r.status_code == 200 and "<i>" not in r.text  # JSON-escaped like every answer
    rows = r.json()
    assert [c["name"] for c in rows] == ["Second <i>", "First"]  # the same time: newest id first
    assert rows[1] == {
        "id": 1, "name": "First", "action": "share", "issue": None, "budget": 2,
        "deadline": "2026-07-01T00:00:00+00:00", "created_at": "2026-06-01T12:00:00+00:00",
        "planned_at": None, "expected_reach": None, "target_reach": None, "status": "new",
        "funnel": {"planned": 0, "sent": 0, "yes": 0, "no": 0, "acted": 0, "thanked": 0},
    }  # fmt: skip
    assert [
        c["name"] for c in site.client.get("/api/campaigns?limit=1", headers=viewer).json()
    ] == ["Second <i>"]
    assert site.client.get("/api/campaigns?limit=0", headers=viewer).status_code == 422
    aimed = {"name": "Aimed", "action": "share", "budget": 3, "target_reach": 12.5}
    r = site.client.post("/api/campaigns", json=aimed, headers=org)
    assert r.status_code == 201 and r.json()["target_reach"] == 12.5
    for bad in (0, -1, "lots"):
        wrong = {**aimed, "name": "Wrong", "target_reach": bad}
        assert site.client.post("/api/campaigns", json=wrong, headers=org).status_code == 422


def test_api_errors_are_json_and_page_errors_are_html(site: Site) -> None:
    org = site.as_("organizer")
    for method, path, code in (("GET", "/api/no/such/route", 404),
                               ("POST", "/api/nurture/1/snooze?days=0", 422),
                               ("POST", "/api/nurture/999/done", 404),
                               ("GET", "/api/users", 403)):  # fmt: skip
        r = site.client.request(method, path, headers=org)
        assert r.status_code == code and r.headers["content-type"] == "application/json", path
        assert "detail" in r.json()
    assert isinstance(site.client.post("/api/nurture/1/snooze?days=0", headers=org)
                      .json()["detail"], list)  # FastAPI's list of what was wrong  # fmt: skip
    assert log_in(site.client, "viewer@example.org").status_code == 303
    csrf = site.client.get("/api/me").json()["csrf_token"]
    for method, path, data, code, message in (
        ("GET", "/no/such/page", None, 404, "Not Found"),
        ("GET", "/people/" + "x" * 400, None, 404, "no such person"),
        ("POST", "/nurture/1/done", {"csrf_token": csrf}, 403, "a viewer may not write"),
        ("GET", "/people?offset=-1", None, 422, "offset: Input should be greater than"),
        ("GET", "/campaigns?name=nothing", None, 404, "no campaign &#39;nothing&#39;"),
    ):
        r = site.client.request(method, path, data=data)
        assert r.status_code == code, (path, r.text)
        assert r.headers["content-type"].startswith("text/html"), path
        assert '<p role="alert">' in r.text and message in r.text, (path, r.text)
    site.client.cookies.clear()
    assert log_in(site.client, "organizer@example.org").status_code == 303
    csrf = site.client.get("/api/me").json()["csrf_token"]
    bad = site.client.post("/nurture/1/snooze", data={"csrf_token": csrf, "days": "0"})
    assert bad.status_code == 422 and "text/html" in bad.headers["content-type"]
    assert "days: Input should be greater than or equal to 1" in bad.text


def test_a_login_form_without_its_csrf_token_is_refused(site: Site) -> None:
    login_token(site.client)  # the csrf cookie is set, but the form does not carry the token
    form = {"email": "owner@example.org", "password": PASSWORD, "next": "/"}
    for extra in ({}, {"csrf_token": "0" * 64}):
        r = site.client.post("/login", data={**form, **extra})
        assert r.status_code == 403, r.text
        assert "kb_session" not in r.headers.get("set-cookie", "")
        assert "did not come from this site" in r.text
    site.client.cookies.clear()  # a token from another browser: no matching cookie
    token = login_token(site.client)
    site.client.cookies.clear()
    assert site.client.post("/login", data={**form, "csrf_token": token}).status_code == 403
    assert site.client.get("/api/me").status_code == 401


def test_login_sets_an_http_only_cookie_and_logout_ends_the_session(site: Site) -> None:
    r = log_in(site.client, "Organizer@Example.org")
    assert r.status_code == 303 and r.headers["location"] == "/"
    cookie = r.headers["set-cookie"]
    assert cookie.startswith("kb_session=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # plain http (see the https test)
    session_id = site.client.cookies["kb_session"]
    me = site.client.get("/api/me")
    assert me.status_code == 200 and me.json()["via"] == "session"
    csrf = me.json()["csrf_token"]
    record = {"direction": "in", "person": "ada@example.org", "verb": "comment"}
    no_csrf = site.client.post("/api/activities", json=record)
    assert no_csrf.status_code == 403
    assert no_csrf.json() == {"detail": "CSRF token missing or wrong: send the X-CSRF-Token header"}
    ok = site.client.post("/api/activities", json=record, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 201, ok.text
    assert site.client.post("/logout").status_code == 403  # a form without its token
    out = site.client.post("/logout", data={"csrf_token": csrf})
    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert site.client.get("/api/me").status_code == 401
    site.client.cookies.set("kb_session", session_id)  # the old cookie, replayed
    assert site.client.get("/api/me").status_code == 401


def test_session_cookies_are_secure_over_https(tmp_path: Any) -> None:
    db = str(tmp_path / "k.db")
    with open_store(db, create=True):
        pass
    for s in _site(db, base_url="https://testserver"):
        r = log_in(s.client, "viewer@example.org")
        assert r.status_code == 303
        assert "Secure" in r.headers["set-cookie"] and "HttpOnly" in r.headers["set-cookie"]


def test_the_sixth_failed_login_is_refused_with_429(site: Site) -> None:
    clock = [1000.0]
    site.app.state.karmabank.limiter.clock = lambda: clock[0]
    for _ in range(5):
        assert log_in(site.client, "owner@example.org", "wrong password!").status_code == 401
    sixth = log_in(site.client, "owner@example.org")  # even the right password now
    assert sixth.status_code == 429
    assert 0 < int(sixth.headers["retry-after"]) <= 15 * 60
    assert "kb_session" not in sixth.headers.get("set-cookie", "")
    assert log_in(site.client, "viewer@example.org").status_code == 303  # another account
    clock[0] += 15 * 60 + 1
    assert log_in(site.client, "owner@example.org").status_code == 303


def test_the_login_page_escapes_what_it_shows(site: Site) -> None:
    email = '"><script>alert(1)</script>@example.org'
    r = log_in(site.client, email, "wrong password!")
    assert r.status_code == 401 and "Wrong email or password." in r.text
    assert "<script>alert(1)" not in r.text
    assert 'value="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;@example.org"' in r.text
    page = site.client.get("/login", params={"next": '/"><script>x</script>'})
    assert "<script>x" not in page.text


def test_next_never_leaves_the_site() -> None:
    assert safe_next("/people?circle=core") == "/people?circle=core"
    for bad in ("//evil.example/", "https://evil.example/", "/\\evil.example", "people", "", None):
        assert safe_next(bad) == "/"
