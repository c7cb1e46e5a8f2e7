"""The dashboard for the day's work (issue 19), through the TestClient over the browser tests'
store plus a few people without a name: every page names them by their best identity."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from karmabank.actions.importing import import_files
from karmabank.store.open import open_store
from karmabank.web import WebSettings, create_app
from tests.conftest import NOW
from tests.web.test_browser import build_store, iso
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
    assert ">node 1054</a>" in ann  # the timeline names the other side too
    assert "<title>node 1054 · karmabank</title>" in client.get("/people/1054").text
