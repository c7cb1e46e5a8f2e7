"""A person's export and the audit log on the web, SQLite and PostgreSQL: owners only (403 for
a viewer and an organizer, on the API and the /audit page); the export downloads as a file
(JSON or CSV, the same document as `karmabank export`), the person page links it for owners;
/audit lists the entries, filters by person and pages with an "Older entries" link; imported
HTML stays text on the page."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from karmabank.actions.audit import PAGE
from karmabank.actions.importing import import_files
from karmabank.actions.people import set_flag
from karmabank.model import Flag
from karmabank.store.open import open_store
from tests.conftest import NOW
from tests.web.test_api import Site, _site, log_in

CSV = (
    "occurred_at,person,name,verb,direction,target,text\n"
    "2026-05-01,ada@example.org,Ada <b>Lovelace</b>,comment,in,,<script>alert(1)</script>\n"
    "2026-05-02,bob@example.org,Bob Stone,comment,in,,hello\n"
    "2026-05-03,bob@example.org,Bob Stone,reply,peer,ada@example.org,thanks\n"
)


@pytest.fixture
def site(db_url: str, tmp_path: Path) -> Iterator[Site]:
    f = tmp_path / "a.csv"
    f.write_text(CSV)
    with open_store(db_url) as store:
        import_files(store=store, fmt="csv", paths=[f], options={}, now=NOW)
        for n in range(PAGE + 5):  # more than one page of entries
            set_flag(store=store, ref="bob@example.org", flag=Flag.BOT, on=n % 2 == 0, now=NOW,
                     actor="seed")  # fmt: skip
    yield from _site(db_url)


def test_only_owners_export_and_read_the_audit(site: Site) -> None:
    for role in ("viewer", "organizer"):
        for url in ("/api/export/ada@example.org", "/api/audit"):
            r = site.client.get(url, headers=site.as_(role))
            assert r.status_code == 403, (url, r.text)
    r = site.client.get("/api/export/ada@example.org", headers=site.as_("owner"))
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    assert re.fullmatch(r'attachment; filename="karmabank-person-\d+\.json"',
                        r.headers["content-disposition"])  # fmt: skip
    doc = r.json()
    assert (
        doc["format"] == "karmabank.person-export"
        and doc["person"]["name"] == "Ada <b>Lovelace</b>"
    )
    assert len(doc["activities"]) == 2 and "Bob Stone" not in r.text
    r = site.client.get("/api/export/ada@example.org?format=csv", headers=site.as_("owner"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.text.startswith("section,item,field,value\r\n")
    assert site.client.get("/api/export/nobody@example.org",
                           headers=site.as_("owner")).status_code == 404  # fmt: skip
    assert site.client.get("/api/export/ada@example.org?format=xml",
                           headers=site.as_("owner")).status_code == 400  # fmt: skip


def test_the_audit_api_pages_and_filters(site: Site) -> None:
    owner = site.as_("owner")
    first = site.client.get("/api/audit?limit=10", headers=owner).json()
    assert len(first["entries"]) == 10 and first["next_before"] == first["entries"][-1]["id"]
    nxt = site.client.get(f"/api/audit?limit=10&before={first['next_before']}", headers=owner)
    assert nxt.json()["entries"][0]["id"] < first["next_before"]
    ada = site.client.get("/api/audit?person=ada@example.org", headers=owner).json()
    assert ada["entries"] == []  # nothing was done to Ada by hand; the import is no one's
    bob = site.client.get("/api/audit?person=bob@example.org&limit=1000", headers=owner).json()
    assert len(bob["entries"]) == PAGE + 5 and {e["action"] for e in bob["entries"]} == {"flag"}
    assert site.client.get("/api/audit?since=soon", headers=owner).status_code == 400


def test_the_audit_page_and_the_person_page_link(site: Site) -> None:
    for role in ("viewer", "organizer"):
        client = site.client
        assert log_in(client, f"{role}@example.org").status_code == 303
        assert client.get("/audit").status_code == 403
        page = client.get("/people/ada@example.org")
        assert page.status_code == 200 and "/api/export/" not in page.text
        client.cookies.clear()
    assert log_in(site.client, "owner@example.org").status_code == 303
    page = site.client.get("/audit")
    assert page.status_code == 200 and 'id="older"' in page.text
    assert page.text.count('<tr id="audit-') == PAGE
    older = re.search(r'id="older" href="([^"]+)"', page.text)
    assert older is not None
    rest = site.client.get(older.group(1).replace("&amp;", "&"))
    assert rest.status_code == 200 and 'id="older"' not in rest.text
    assert rest.text.count('<tr id="audit-') >= 5
    bad = site.client.get("/audit?person=nobody@example.org")
    assert bad.status_code == 400 and "no person" in bad.text
    person = site.client.get("/people/ada@example.org")
    assert "/api/export/id:" in person.text and "format=csv" in person.text
    link = re.search(r'href="(/api/export/id:\d+\?format=json)"', person.text)
    assert link is not None
    got = site.client.get(link.group(1))
    assert (
        got.status_code == 200 and json.loads(got.text)["person"]["name"] == "Ada <b>Lovelace</b>"
    )
    assert "<b>Lovelace</b>" not in person.text  # escaped on the page
