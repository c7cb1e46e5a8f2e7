"""The dashboard's pages without a browser, through FastAPI's TestClient over the browser
tests' store (SQLite and PostgreSQL): every page needs a session, a viewer reads and writes
nothing, forms need the CSRF token and work without JavaScript, imported text is escaped, and
the campaigns page lists every campaign with a link to each, and everyone has a page, scored
with a circle, scored without one, or not scored."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from karmabank.actions.importing import import_files
from karmabank.store.open import open_store
from karmabank.store.tables import Person, PersonScore
from karmabank.web import WebSettings, create_app
from tests.conftest import NOW
from tests.web.test_browser import MAX_JS, PASSWORD, SCRIPT, build_store, iso


@pytest.fixture
def client(db_url: str, tmp_path: Path) -> Iterator[TestClient]:
    csv_dir = tmp_path / "csv"
    csv_dir.mkdir()
    build_store(db_url, csv_dir)
    with TestClient(create_app(WebSettings(db=db_url, now=NOW)), follow_redirects=False) as c:
        yield c


def form_login(client: TestClient, role: str) -> str:
    """Log in through the form; the session's CSRF token (from a page's logout form)."""
    login = client.get("/login")
    token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', login.text)
    assert token is not None
    r = client.post("/login", data={"email": f"{role}@example.org", "password": PASSWORD,
                                     "csrf_token": token.group(1), "next": "/"})  # fmt: skip
    assert r.status_code == 303, r.text
    home = client.get("/")
    assert home.status_code == 200
    found = re.search(r'name="csrf_token" value="([0-9a-f]+)"', home.text)
    assert found is not None
    return found.group(1)


PAGES = ("/", "/people", "/people/1", "/campaigns", "/influencers")
WRITES = ("/nurture/1/done", "/nurture/1/skip", "/nurture/1/snooze", "/campaigns",
          "/campaigns/plan", "/campaigns/send", "/campaigns/respond")  # fmt: skip


def test_pages_need_a_session(client: TestClient) -> None:
    for path in PAGES:
        r = client.get(path)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next=/"), path
    for path in WRITES:
        assert client.post(path).status_code == 303, path
    client.headers["Authorization"] = "Bearer kb_whatever"  # a page is for a browser session
    assert client.get("/").status_code == 303


def test_a_viewer_reads_every_page_and_writes_nothing(client: TestClient) -> None:
    token = form_login(client, "viewer")
    for path in PAGES:
        r = client.get(path)
        assert r.status_code == 200, (path, r.text)
        assert '<button type="submit">Done' not in r.text
    found = client.get("/people?q=ADA&circle=&status=&stage=").text  # empty selects: any
    assert "Ada Lovelace" in found and "Bo Brave" not in found
    assert "Bo Brave" in client.get("/people?q=bo@example").text  # by identity
    assert client.get("/people?circle=dormant-ish").status_code == 200  # ignored: any circle
    last = client.get("/people?offset=50")
    assert "Nobody matches." in last.text and 'href="/people?offset=0" rel="prev"' in last.text
    data = {"csrf_token": token, "name": "X", "action": "share", "budget": "2",
            "person": "1", "response": "yes"}  # fmt: skip
    for path in WRITES:
        assert client.post(path, data=data).status_code == 403, path


def test_people_scored_without_a_circle_have_a_page_that_says_so(
    client: TestClient, db_url: str, tmp_path: Path
) -> None:
    """Hal only received a give and Ivy only replied to Ada: each has a score row (a ledger,
    warmth 0) but nothing toward us, so no circle, rhythm or stage; their page shows the scores
    and says why, where it used to fail (a 500)."""
    more = tmp_path / "more.csv"
    more.write_text(
        "occurred_at,person,name,verb,direction,channel,text,target\n"
        f"{iso(5)},hal@example.org,Hal Helped,help,give,blog,,\n"
        f"{iso(4)},ivy@example.org,Ivy Peer,reply,peer,blog,Agreed!,ada@example.org\n"
    )
    with open_store(db_url) as store:
        import_files(store=store, fmt="csv", paths=[more], options={}, now=NOW)
        with store.sessions() as session:
            found = session.execute(
                select(Person.name, Person.id).where(Person.name.in_(["Hal Helped", "Ivy Peer"]))
            )
            ids = {name: pid for name, pid in found}
    form_login(client, "viewer")
    for name, given in (("Hal Helped", "5.0"), ("Ivy Peer", "0.0")):
        r = client.get(f"/people/{ids[name]}")
        assert r.status_code == 200, (name, r.text)
        assert '<td>none</td><td class="why">no circle: nothing from them toward us' in r.text
        assert "no rhythm yet: nothing from them toward us" in r.text
        assert f'<dd id="given">{given}</dd>' in r.text
        api = client.get(f"/api/people/{ids[name]}").json()
        assert (api["circle"], api["warmth"]["value"], api["warmth"]["parts"]) == (None, 0, [])
    with open_store(db_url) as store, store.sessions() as session:
        assert session.get(PersonScore, ids["Hal Helped"]) is not None  # scored, no circle


def test_an_organizer_needs_the_csrf_token_and_works_without_js(client: TestClient) -> None:
    token = form_login(client, "organizer")
    home = client.get("/").text
    item = re.search(r'action="/nurture/(\d+)/done"', home)
    assert item is not None
    done = f"/nurture/{item.group(1)}/done"
    assert client.post(done).status_code == 403
    assert client.post(done, data={"csrf_token": "0" * 64}).status_code == 403
    r = client.post(done, data={"csrf_token": token})
    assert r.status_code == 303 and r.headers["location"] == "/"  # no JS: back to the queue
    again = client.post(done, data={"csrf_token": token}, headers={"HX-Request": "true"})
    assert again.status_code == 400 and "text/html" in again.headers["content-type"]
    missing = client.get("/campaigns?name=nothing-like-it")
    assert missing.status_code == 404 and 'role="alert"' in missing.text


def test_imported_text_is_escaped_in_the_html(client: TestClient) -> None:
    form_login(client, "viewer")
    html = client.get("/people/ada@example.org").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert SCRIPT not in html
    home = client.get("/").text  # the queue's next step and draft quote the comment
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in home and SCRIPT not in home
    ours = ('<script src="/static/vendor/htmx/htmx.min.js"', '<script src="/static/karmabank.js"')
    assert "<script" not in html.replace(ours[0], "").replace(ours[1], "")
    js = client.get("/static/vendor/htmx/htmx.min.js")
    assert js.status_code == 200 and len(js.content) <= MAX_JS
    assert "default-src 'self'" in js.headers["content-security-policy"]


def test_the_campaigns_page_lists_every_campaign(client: TestClient) -> None:
    token = form_login(client, "organizer")
    assert "No campaigns yet: create one above." in client.get("/campaigns").text
    for name in ("Spring drive", "Fall <b>fair</b>"):
        r = client.post("/campaigns", data={"csrf_token": token, "name": name, "action": "share",
                                            "budget": "2", "issue": "Meetups"})  # fmt: skip
        assert r.status_code == 303, r.text
    html = client.get("/campaigns").text
    rows = re.findall(r'<td><a href="(/campaigns\?name=[^"]+)">([^<]+)</a></td>', html)
    assert rows == [("/campaigns?name=Fall+%3Cb%3Efair%3C%2Fb%3E", "Fall &lt;b&gt;fair&lt;/b&gt;"),
                    ("/campaigns?name=Spring+drive", "Spring drive")]  # fmt: skip
    opened = client.get(rows[1][0]).text
    assert 'aria-current="page">Spring drive</a>' in opened and "<td>Meetups</td>" in opened
