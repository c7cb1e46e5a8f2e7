"""An owner's pages in Debian's Chromium (Playwright, the real server on a free port): the home
page's connections and its "Sync now" (issue 17) syncing a Mastodon account served by the
replay server, then the team and issues pages used through their forms (issue 19), at 1400
and 360 px wide. No request leaves the machine but to the loopback, no console error, every
visible input labelled, nothing wider than the screen, the token on no page. Screenshots go
to the test's folder (docs/img/ with $KARMABANK_SCREENSHOTS=1). Without /usr/bin/chromium
these tests skip (fail under $KARMABANK_REQUIRE_BROWSER=1)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import update

from karmabank.actions.accounts import add_user
from karmabank.actions.connections import connect
from karmabank.connectors.http import Policy
from karmabank.settings import SyncSettings
from karmabank.store.connections import Connection
from karmabank.store.open import open_store
from karmabank.web import WebSettings, create_app
from tests.connectors.mastodon_replay import NOW, TOKEN, serve_account, serve_history
from tests.connectors.replay import ReplayServer
from tests.web.test_browser import (
    PASSWORD,
    Server,
    _need_browser,
    chromium,
    log_in,
    screenshot,
    serving,
)
from tests.web.test_day_browser import UNLABELLED, WIDTHS, Watched

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

VARIABLE = "KB_BROWSER_MASTODON_TOKEN"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    _need_browser()
    db = str(tmp_path_factory.mktemp("owner-browser") / "karmabank.db")
    with pytest.MonkeyPatch.context() as env, ReplayServer() as mastodon:
        env.setenv(VARIABLE, TOKEN)  # the web's sync reads the secret from its environment
        serve_account(mastodon)
        serve_history(mastodon)
        with open_store(db, create=True) as store:
            add_user(store=store, email="owner@example.org", role="owner", now=NOW,
                     password=PASSWORD, actor="test")  # fmt: skip
            connect(store=store, platform="mastodon", base_url=mastodon.url, secret_env=VARIABLE,
                    secret=TOKEN, name="org-mastodon", policy=Policy(backoff=0.001), now=NOW)  # fmt: skip
        app = create_app(WebSettings(db=db, now=NOW, sync=SyncSettings(backoff=0.001)))
        with serving(app) as url:
            yield Server(url, db)


@pytest.fixture(scope="module")
def browser(server: Server) -> Iterator[Browser]:
    with chromium() as b:
        yield b


@pytest.fixture(params=WIDTHS, ids=lambda w: f"{w}px")
def watched(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Watched]:
    context = browser.new_context(viewport={"width": request.param, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    yield Watched(pg)
    context.close()


def unread_followers() -> str:
    """The connection's options without where its follower reading stands (due again)."""
    return '{"account_id": "1", "domain": "example.social"}'


def checked(page: Page, name: str, tmp_path: Path) -> None:
    """The page's inputs are labelled, it fits the screen and holds no secret; a screenshot."""
    width = page.viewport_size["width"] if page.viewport_size else 0
    assert page.evaluate(UNLABELLED) == [], page.url
    assert page.evaluate("document.documentElement.scrollWidth") <= width, page.url
    assert TOKEN not in page.content()
    screenshot(page, f"owner-{name}-{width}.png", tmp_path)


def test_an_owner_syncs_from_the_home_page(
    watched: Watched, server: Server, tmp_path: Path
) -> None:
    page = watched.page
    with open_store(server.db) as store, store.sessions.begin() as session:
        # each width's sync a first sync: all read again (duplicates the second time)
        session.execute(update(Connection).values(cursor=None, options=unread_followers()))
    log_in(page, server, "owner")
    connections = page.locator("#connections")
    assert "org-mastodon" in connections.inner_text()
    assert "mastodon:@karmabank@example.social" in connections.inner_text()
    checked(page, "home", tmp_path)
    page.get_by_role("button", name="Sync now").click()
    page.wait_for_url(server.url + "/connections/sync")
    row = page.locator("#synced tbody tr", has_text="org-mastodon")
    text = row.inner_text()
    assert "follower counts of 2 people in the network" in text and "(6 pages)" in text
    cells = row.locator("td.num").all_inner_texts()
    assert cells[2:] == ["1", "1"]  # skipped (the poll), quarantined (the malformed page)
    assert int(cells[0]) + int(cells[1]) == 6  # imported the first time, duplicates after
    checked(page, "synced", tmp_path)
    page.get_by_role("link", name="Back to Today").click()
    page.wait_for_url(server.url + "/")
    after = page.locator("#connections").inner_text()
    assert "2026-12-01 12:00" in after and "never" not in after
    assert watched.outside == [] and watched.errors == []


def test_an_owner_adds_a_user_and_an_issue(
    watched: Watched, server: Server, tmp_path: Path
) -> None:
    page = watched.page
    width = page.viewport_size["width"] if page.viewport_size else 0
    log_in(page, server, "owner", "/team")
    checked(page, "team", tmp_path)
    page.get_by_label("Email").fill(f"helper-{width}@example.org")
    page.get_by_label("Role").select_option("organizer")
    page.get_by_role("button", name="Add (a password is made and shown once)").click()
    assert "shown this once" in page.locator("#secret").inner_text()
    assert f"helper-{width}@example.org" in page.locator("#users").inner_text()

    page.goto(server.url + "/issues")
    checked(page, "issues", tmp_path)
    name = f"Clean rivers {width}"
    page.locator("#i-name").fill(name)  # (the rows' "Keywords of ..." match "Keywords" too)
    page.locator("#i-keywords").fill("river, cleanup")
    page.get_by_role("button", name="Add", exact=True).click()
    page.wait_for_url(server.url + "/issues**")
    row = page.locator("#issues tr", has_text=name)
    assert row.count() == 1
    assert row.get_by_label(f"Keywords of {name}").input_value() == "river cleanup"
    checked(page, "issues-added", tmp_path)
    assert watched.outside == [] and watched.errors == []
