"""Erasing a person on the web (issue 18 item 3), SQLite and PostgreSQL: owners only, on the API
(`POST /api/people/{ref}/erase`) and from the person page's confirm form (CSRF token and the
ticked box); anyone else gets 403, nobody 404, and the erased person's page is gone."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from karmabank.actions.importing import import_files
from karmabank.store.open import open_store
from karmabank.store.tables import AuditLog, Person
from tests.conftest import NOW
from tests.web.test_api import Site, _site, log_in

CSV = (
    "occurred_at,person,name,verb,direction,target,text\n"
    "2026-05-01,ada@example.org,Ada Lovelace,comment,in,,Rivers need friends\n"
    "2026-05-02,bob@example.org,Bob Stone,comment,in,,I agree with Ada Lovelace\n"
    "2026-05-03,bob@example.org,Bob Stone,reply,peer,ada@example.org,thanks\n"
)


@pytest.fixture
def site(db_url: str, tmp_path: Path) -> Iterator[Site]:
    f = tmp_path / "a.csv"
    f.write_text(CSV)
    with open_store(db_url) as store:
        import_files(store=store, fmt="csv", paths=[f], options={}, now=NOW)
    yield from _site(db_url)


def _ada(site: Site) -> int | None:
    with open_store(site.db) as store, store.sessions() as s:
        return s.scalar(select(Person.id).where(Person.name == "Ada Lovelace"))


def _page_token(client: TestClient, role: str) -> str:
    assert log_in(client, f"{role}@example.org").status_code == 303
    found = re.search(r'name="csrf_token" value="([0-9a-f]+)"', client.get("/").text)
    assert found is not None
    return found.group(1)


def test_only_an_owner_erases_through_the_api(site: Site) -> None:
    url = "/api/people/ada@example.org/erase"
    for role in ("viewer", "organizer"):
        r = site.client.post(url, headers=site.as_(role))
        assert r.status_code == 403, r.text
        assert r.json()["detail"] == f"a {role} may not erase"
    assert _ada(site) is not None
    r = site.client.post(url, headers=site.as_("owner"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["erased"] and body["rescored"] and body["tombstones"] == 1
    assert body["removed"]["activity"] == 2 and body["mentions_rewritten"] == {"activity": 1}
    assert _ada(site) is None
    again = site.client.post(url, headers=site.as_("owner"))
    assert again.status_code == 404, again.text
    assert site.client.get(f"/api/people/id:{body['person_id']}",
                           headers=site.as_("owner")).status_code == 404  # fmt: skip
    bob = site.client.get("/api/people/bob@example.org", headers=site.as_("owner")).json()
    assert [a["text"] for a in bob["timeline"]] == ["I agree with [erased]"]
    nobody = site.client.post("/api/people/nobody@example.org/erase", headers=site.as_("owner"))
    assert nobody.status_code == 404
    with open_store(site.db) as store, store.sessions() as s:
        audit = s.scalars(select(AuditLog).where(AuditLog.action == "erase")).one()
        assert audit.actor == "web:owner@example.org"
        assert "ada" not in (audit.details or "").lower()


def test_an_organizer_sees_no_erase_form_and_may_not_post_one(site: Site) -> None:
    ada = _ada(site)
    token = _page_token(site.client, "organizer")
    page = site.client.get(f"/people/id:{ada}")
    assert page.status_code == 200 and "Ada Lovelace" in page.text
    assert "/erase" not in page.text
    r = site.client.post(f"/people/id:{ada}/erase", data={"csrf_token": token, "confirm": "yes"})
    assert r.status_code == 403
    assert _ada(site) == ada


def test_an_owner_erases_from_the_person_page(site: Site) -> None:
    ada = _ada(site)
    token = _page_token(site.client, "owner")
    page = site.client.get(f"/people/id:{ada}")
    assert f'action="/people/id:{ada}/erase"' in page.text
    url = f"/people/id:{ada}/erase"
    assert site.client.post(url, data={"confirm": "yes"}).status_code == 403  # no CSRF token
    assert site.client.post(url, data={"csrf_token": token}).status_code == 400  # box unticked
    assert _ada(site) == ada
    r = site.client.post(url, data={"csrf_token": token, "confirm": "yes"})
    assert r.status_code == 200, r.text
    assert "Ada Lovelace (id:" in r.text and "was erased" in r.text
    assert _ada(site) is None
    assert site.client.get(f"/people/id:{ada}").status_code == 404
    people = site.client.get("/people")
    assert "Bob Stone" in people.text and "Ada Lovelace" not in people.text
