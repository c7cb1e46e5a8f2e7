"""The dashboard for the day's work (issue 19), through the TestClient over the browser tests'
store plus a few people without a name: every page names them by their best identity."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from karmabank.actions.accounts import add_user
from karmabank.actions.charts import network_chart_svgs, person_rhythm_svg
from karmabank.actions.importing import import_files
from karmabank.actions.recording import record_activity
from karmabank.measures.settings import MeasureSettings
from karmabank.model import Direction
from karmabank.store.open import open_store
from karmabank.web import WebSettings, create_app
from tests.conftest import NOW
from tests.web.test_browser import PASSWORD, build_store, iso
from tests.web.test_pages import form_login

NAMELESS = [
    f"{iso(1)},@ann@host.social,,comment,in,mastodon,hello",
    f"{iso(1)},other:1054,,like,in,blog,",
    f"{iso(2)},other:1054,,reply,peer,blog,",
]


def add_nameless(db: str, folder: Path) -> None:
    """Ann (Mastodon) and node 1054 of an edge list, neither with a name; 1054 replied to Ann."""
    rows = ["occurred_at,person,name,verb,direction,channel,text,target"]
    rows += [r + ",@ann@host.social" if ",peer," in r else r + "," for r in NAMELESS]
    f = folder / "nameless.csv"
    f.write_text("\n".join(rows) + "\n")
    with open_store(db, create=False) as store:
        import_files(store=store, fmt="csv", paths=[f], options={}, now=NOW)


@pytest.fixture
def client(db_url: str, tmp_path: Path) -> Iterator[TestClient]:
    build_store(db_url, tmp_path)
    add_nameless(db_url, tmp_path)
    with TestClient(create_app(WebSettings(db=db_url, now=NOW)), follow_redirects=False) as c:
        yield c


def test_people_without_a_name_are_shown_by_their_best_identity(client: TestClient) -> None:
    form_login(client, "organizer")
    people = client.get("/people").text
    assert ">@ann@host.social</a>" in people and ">node 1054</a>" in people
    assert "person " not in people.split("<main", 1)[1].split("</table>")[0]
    ann = client.get("/people/mastodon:@ann@host.social").text
    assert "<h1>@ann@host.social</h1>" in ann
    others = client.get("/people/mastodon:@ann@host.social?whose=others").text
    assert ">node 1054</a>" in others  # the timeline names the other side too
    assert "<title>node 1054 · karmabank</title>" in client.get("/people/1054").text


def test_every_page_says_when_its_scores_are_as_of(client: TestClient) -> None:
    form_login(client, "viewer")
    for path in ("/", "/people", "/people/1", "/influencers", "/campaigns", "/charts",
                 "/merge-review"):  # fmt: skip
        r = client.get(path)
        if r.status_code == 403:  # the merge review is for writers
            continue
        assert "Scores as of 2026-06-01 12:00 UTC." in r.text, path
        assert 'id="stale"' not in r.text, path  # the data is fresh


def test_historical_data_offers_the_network_as_of_its_last_activity(
    db_url: str, tmp_path: Path
) -> None:
    build_store(db_url, tmp_path)  # newest activity: NOW - 1 day; the app runs 400 days later
    later = NOW + timedelta(days=400)
    with TestClient(create_app(WebSettings(db=db_url, now=later)), follow_redirects=False) as c:
        form_login(c, "viewer")
        people = c.get("/people?status=active")
        assert people.text.count('id="stale"') == 1 and "Nobody matches." in people.text
        link = re.search(r'href="(/as-of\?day=([0-9-]+)&amp;next=/people)"', people.text)
        assert link is not None and link.group(2) == NOW.date().isoformat()
        go = c.get(link.group(1).replace("&amp;", "&"))
        assert go.status_code == 303 and go.headers["location"] == "/people"
        then = c.get("/people?status=active").text
        assert 'id="stale"' not in then and "Ada Lovelace" in then  # active as of then
        assert f"viewing the network as of {NOW.date()}" in then
        assert "Scores as of 2026-06-01 00:00 UTC" in then
        back = c.get("/as-of?next=/people")
        assert back.status_code == 303 and 'id="stale"' in c.get("/").text
        for bad in ("2026-13-01", "1800-01-01", "tomorrow"):
            assert c.get(f"/as-of?day={bad}").status_code == 400, bad
        assert c.get("/as-of?day=2026-01-01&next=//evil.example").headers["location"] == "/"


def test_the_charts_honour_the_day_the_network_is_viewed_as_of(db_url: str, tmp_path: Path) -> None:
    """/charts draws the network as of the /as-of day, as the home and people pages do: the
    same charts `network_chart_svgs` draws for that day, not those of the app's clock."""
    build_store(db_url, tmp_path)  # newest activity: NOW - 1 day; the app runs 400 days later
    later = NOW + timedelta(days=400)
    then = NOW.replace(hour=0)
    settings = MeasureSettings()
    with TestClient(create_app(WebSettings(db=db_url, now=later)), follow_redirects=False) as c:
        form_login(c, "viewer")
        now_page = c.get("/charts").text
        assert f"As of the scores' time, {later:%Y-%m-%d %H:%M} UTC." in now_page
        assert now_page.count('id="stale"') == 1
        assert c.get(f"/as-of?day={then.date()}&next=/charts").status_code == 303
        then_page = c.get("/charts").text
        assert f"As of the scores' time, {then:%Y-%m-%d %H:%M} UTC." in then_page
        assert f"viewing the network as of {then.date()}" in then_page
        assert 'id="stale"' not in then_page
        with open_store(db_url, create=False) as store:
            _, drawn = network_chart_svgs(store=store, now=then, settings=settings)
        assert drawn["rhythm"] in then_page and drawn["rhythm"] not in now_page
        person = c.get("/people/1").text
        assert f'src="/people/1/rhythm.svg?as_of={then.date()}"' in person
        strip = c.get(f"/people/1/rhythm.svg?as_of={then.date()}").text
        with open_store(db_url, create=False) as store:
            assert strip == person_rhythm_svg(store=store, person_id=1, now=then,
                                              settings=settings)  # fmt: skip
        c.get("/as-of?next=/charts")
        assert drawn["rhythm"] not in c.get("/charts").text  # back to now


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page)
    assert found is not None
    return found.group(1)


def test_the_whole_timeline_is_paged_theirs_first_and_filtered(client: TestClient) -> None:
    form_login(client, "viewer")
    ann = client.get("/people/mastodon:@ann@host.social").text
    assert "hello" in ann and ">node 1054</a>" not in ann  # theirs first: not 1054's reply
    assert 'rel="next"' not in ann
    page = client.get("/people/mastodon:@ann@host.social?whose=others").text
    assert ">node 1054</a>" in page and "hello" not in page  # others' toward them
    ada = client.get("/people/ada@example.org?whose=theirs&direction=in&channel=blog").text
    rows = ada.split('<table id="timeline">')[1].split("</table>")[0]
    assert rows.count("<tr>") == 1 + 6  # the header and her six comments: no give, no ask
    assert "Activities 1 to 6, the newest first" in ada
    assert "Nothing here." in client.get("/people/ada@example.org?channel=forum").text


def test_a_long_timeline_has_every_page(client: TestClient, db_url: str) -> None:
    with open_store(db_url) as store:
        for i in range(120):  # 120 more comments from Ada, each a minute apart
            record_activity(store=store, direction=Direction.IN, ref="ada@example.org",
                            verb="comment", at=NOW - timedelta(days=200, minutes=i), now=NOW,
                            text=f"old {i}")  # fmt: skip
    form_login(client, "viewer")
    seen: list[str] = []
    path: str | None = "/people/ada@example.org"
    while path is not None:
        text = client.get(path).text
        seen += re.findall(r"old (\d+)", text)
        found = re.search(r'href="([^"]+)" rel="next"', text)
        path = found.group(1).replace("&amp;", "&") if found else None
    assert sorted(map(int, seen)) == list(range(120))  # all of them, once each (3 pages)


def test_an_organizer_records_flags_and_opts_out_from_the_page(client: TestClient) -> None:
    token = form_login(client, "organizer")
    ada = client.get("/people/ada@example.org").text
    pid = int(re.search(r'action="/people/id:(\d+)/record"', ada).group(1))  # type: ignore[union-attr]
    assert '<label for="give-verb">Verb</label>' in ada  # every input labelled
    r = client.post(f"/people/id:{pid}/record", data={"csrf_token": token, "direction": "give",
                    "verb": "thank", "text": "Thanks for the meetup notes"})  # fmt: skip
    assert r.status_code == 303 and r.headers["location"] == f"/people/id:{pid}#timeline-h"
    assert "Thanks for the meetup notes" in client.get(f"/people/id:{pid}").text
    r = client.post(f"/people/id:{pid}/flag", data={"csrf_token": token, "flag": "bot",
                                                     "on": "on"})  # fmt: skip
    assert r.status_code == 303
    page = client.get(f"/people/id:{pid}").text
    assert 'aria-pressed="true">bot: on, clear</button>' in page
    r = client.post(f"/people/id:{pid}/optout", data={"csrf_token": token, "channel": "email",
                                                       "on": "on"})  # fmt: skip
    assert r.status_code == 303
    page = client.get(f"/people/id:{pid}").text
    assert "email: opted out, opt back in" in page
    with_api = client.get(f"/people/id:{pid}").text
    assert 'Flags: <span class="kind">bot</span>' in with_api
    for path, data in ((f"/people/id:{pid}/record", {"direction": "ask", "verb": "attend"}),
                       (f"/people/id:{pid}/flag", {"flag": "team", "on": "on"}),
                       (f"/people/id:{pid}/optout", {"channel": "blog", "on": "on"})):  # fmt: skip
        assert client.post(path, data=data).status_code == 403, path  # no CSRF token
    bad_flag = {"csrf_token": token, "flag": "admin", "on": "on"}
    assert client.post(f"/people/id:{pid}/flag", data=bad_flag).status_code == 422


def test_a_viewer_gets_no_forms_and_may_not_post_them(client: TestClient) -> None:
    token = form_login(client, "viewer")
    assert 'id="manage"' not in client.get("/people/ada@example.org").text
    r = client.post("/people/id:1/flag", data={"csrf_token": token, "flag": "bot", "on": "on"})
    assert r.status_code == 403


def test_influencers_show_an_unknown_affinity_and_sort_as_they_say(client: TestClient) -> None:
    form_login(client, "viewer")
    text = client.get("/influencers?issue=Meetups").text
    assert "the people whose affinity is known first, then those with no texts" in text
    rows = re.findall(
        r'<tr>\s*<td><a href="/people/id:\d+">([^<]+)</a></td>\s*'
        r'<td class="num">([0-9.]+)</td>.*?<td class="num">([^<]+)</td>\s*<td class="why">',
        text, re.S,
    )  # fmt: skip
    assert rows, text
    known = [(float(i), a) for _, i, a in rows if a != "unknown"]
    unknown = [float(i) for _, i, a in rows if a == "unknown"]
    assert known and unknown, rows  # Cy, Di... never wrote anything: unknown, not 0.00
    assert [a for _, _, a in rows] == [a for _, a in known] + ["unknown"] * len(unknown)
    assert [i for i, _ in known] == sorted((i for i, _ in known), reverse=True)
    assert unknown == sorted(unknown, reverse=True)


def test_tables_download_as_csv_from_their_pages(client: TestClient) -> None:
    token = form_login(client, "organizer")
    people = client.get("/people?q=example.org").text
    assert '<a href="/people.csv?q=example.org" id="people-csv" download>CSV</a>' in people
    got = client.get("/people.csv?q=example.org")
    assert got.headers["content-type"] == "text/csv; charset=utf-8"
    assert got.headers["content-disposition"] == 'attachment; filename="people.csv"'
    rows = list(csv.reader(io.StringIO(got.text)))
    assert rows[0] == ["id", "name", "identities", "circle", "status", "stage", "warmth",
                       "balance", "flags"]  # fmt: skip
    assert {r[1] for r in rows[1:]} >= {"Ada Lovelace", "Bo Brave", "Gil Gone"}
    assert "ann@host.social" not in got.text  # the page's filter holds
    influencers = client.get("/influencers?issue=Meetups").text
    assert 'href="/influencers.csv?issue=Meetups&amp;limit=20"' in influencers
    inf = list(csv.reader(io.StringIO(client.get("/influencers.csv?issue=Meetups").text)))
    assert inf[0][:3] == ["rank", "id", "name"] and [r[0] for r in inf[1:]] == [
        str(i) for i in range(1, len(inf))]  # fmt: skip
    for path, data in (("/campaigns", {"name": "Meetup", "action": "attend", "budget": "2"}),
                       ("/campaigns/plan", {"name": "Meetup"})):  # fmt: skip
        assert client.post(path, data={"csrf_token": token, **data}).status_code in (200, 303)
    assert 'href="/campaigns/asks.csv?name=Meetup"' in client.get("/campaigns?name=Meetup").text
    asks = list(csv.reader(io.StringIO(client.get("/campaigns/asks.csv?name=Meetup").text)))
    assert asks[0][:5] == ["position", "id", "name", "identities", "status"]
    assert len(asks) == 3 and {r[2] for r in asks[1:]} <= {"Bo Brave", "Cy Clear", "Ada Lovelace"}
    assert client.get("/campaigns/asks.csv?name=Nope").status_code == 404


def test_issues_are_listed_added_and_their_keywords_edited(client: TestClient) -> None:
    token = form_login(client, "organizer")
    listed = client.get("/issues").text
    assert ">Meetups</a>" in listed and 'value="meetup meet"' in listed
    assert '<label for="i-keywords">' in listed
    r = client.post("/issues", data={"csrf_token": token, "name": "River cleanup",
                                      "keywords": "river, cleanup"})  # fmt: skip
    assert r.status_code == 303 and r.headers["location"].startswith("/issues#issue-")
    issue_id = r.headers["location"].rsplit("-", 1)[1]
    r = client.post(f"/issues/{issue_id}/keywords",
                    data={"csrf_token": token, "keywords": "river litter Cleanup"})  # fmt: skip
    assert r.status_code == 303
    assert 'value="river litter cleanup"' in client.get("/issues").text
    assert client.post(f"/issues/{issue_id}/keywords",
                       data={"keywords": "x"}).status_code == 403  # fmt: skip
    assert client.post("/issues/999/keywords",
                       data={"csrf_token": token, "keywords": "x"}).status_code == 400  # fmt: skip


def test_a_campaign_gets_a_deadline_from_its_form(client: TestClient) -> None:
    token = form_login(client, "organizer")
    r = client.post("/campaigns", data={"csrf_token": token, "name": "Autumn", "action": "attend",
                                         "budget": "3", "deadline": "2026-07-01"})  # fmt: skip
    assert r.status_code == 303
    assert "<td>2026-07-01</td>" in client.get("/campaigns").text
    bad = {"csrf_token": token, "name": "Bad", "action": "attend", "budget": "3",
           "deadline": "someday"}  # fmt: skip
    assert client.post("/campaigns", data=bad).status_code == 400


def test_a_campaign_gets_a_target_reach_from_its_form_and_its_plan_says_it_was_met(
    client: TestClient,
) -> None:
    token = form_login(client, "organizer")
    form = {"csrf_token": token, "name": "Reach", "action": "share", "budget": "20",
            "target_reach": "0.1"}  # fmt: skip
    r = client.post("/campaigns", data=form)
    assert r.status_code == 303
    page = client.get(r.headers["location"]).text
    assert 'id="c-target" name="target_reach"' in page
    assert '<dd id="target-reach">0.1</dd>' in page
    assert '<td class="num">0.1</td>' in page  # the list's column
    planned = client.post("/campaigns/plan", data={"csrf_token": token, "name": "Reach"})
    assert planned.status_code == 200
    note = re.search(r'<p id="plan-target" class="note">([^<]+)</p>', planned.text)
    assert note is not None and note.group(1).startswith("target reach 0.1 met with 1 ask of 20")
    for bad in ("many", "0", "-1"):
        wrong = {**form, "name": f"Bad {bad}", "target_reach": bad}
        assert client.post("/campaigns", data=wrong).status_code == 400, bad
    none = client.post("/campaigns", data={**form, "name": "Plain", "target_reach": ""})
    assert "the plan uses the whole budget" in client.get(none.headers["location"]).text


def test_an_owner_adds_a_user_and_makes_a_token_from_the_team_page(
    client: TestClient, db_url: str
) -> None:
    with open_store(db_url) as store:
        add_user(store=store, email="owner@example.org", role="owner", now=NOW,
                 password=PASSWORD, actor="test")  # fmt: skip
    token = form_login(client, "owner")
    team = client.get("/team").text
    assert '<label for="u-email">Email</label>' in team and 'id="secret"' not in team
    r = client.post("/team/users", data={"csrf_token": token, "email": "Nia@Example.org",
                                          "role": "organizer"})  # fmt: skip
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    shown = re.search(r"The password of nia@example.org, shown this once.*?<code>([^<]+)</code>",
                      r.text)  # fmt: skip
    assert shown is not None and len(shown.group(1)) >= 12
    assert shown.group(1) not in client.get("/team").text  # once
    r = client.post("/team/tokens", data={"csrf_token": token, "email": "nia@example.org"})
    found = re.search(r"An API token for nia@example.org, shown this once.*?<code>(kb_[^<]+)<",
                      r.text)  # fmt: skip
    assert found is not None
    api = client.get("/api/status", headers={"Authorization": f"Bearer {found.group(1)}"})
    assert api.status_code == 200, api.text  # the token works
    organizer = TestClient(client.app, follow_redirects=False)
    organizer_token = form_login(organizer, "organizer")
    refused = organizer.post("/team/tokens", data={"csrf_token": organizer_token,
                                                    "email": "nia@example.org"})  # fmt: skip
    assert refused.status_code == 403
