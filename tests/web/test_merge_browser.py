"""The merge review in a real browser (Debian's Chromium through Playwright, the real server on a
free port, a SQLite store built here with `test_merge_api.seed`): an organizer reviews a
suggestion, merges it, sees "Merged from" on the person's page, unmerges, and both persons are
back; "Not the same" takes a pair off the list; a viewer has no link, gets 403 and no Unmerge
button; a hostile name shows as text (no element made of it, no script run).

Screenshots go to the test's temporary folder (to docs/img/ with $KARMABANK_SCREENSHOTS=1, as
in test_browser.py). Without /usr/bin/chromium these tests skip (fail under
$KARMABANK_REQUIRE_BROWSER=1)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from karmabank.actions.accounts import add_user
from karmabank.store.open import open_store
from karmabank.web import WebSettings, create_app
from tests.conftest import NOW
from tests.web.test_browser import (
    PASSWORD,
    Server,
    _need_browser,
    chromium,
    screenshot,
    serving,
)
from tests.web.test_merge_api import HOSTILE, seed

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Dialog, Page


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    _need_browser()
    db = str(tmp_path_factory.mktemp("merge-browser") / "karmabank.db")
    with open_store(db, create=True) as store:
        seed(store)
        for role in ("organizer", "viewer"):
            add_user(store=store, email=f"{role}@example.org", role=role, now=NOW,
                     password=PASSWORD, actor="test")  # fmt: skip
    with serving(create_app(WebSettings(db=db, now=NOW))) as url:
        yield Server(url)


@pytest.fixture(scope="module")
def browser(server: Server) -> Iterator[Browser]:
    with chromium() as b:
        yield b


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    dialogs: list[str] = []

    def record(d: Dialog) -> None:
        dialogs.append(d.message)
        d.dismiss()

    pg.on("dialog", record)
    yield pg
    context.close()
    assert dialogs == [], "a script ran"


def log_in(page: Page, server: Server, role: str) -> None:
    page.goto(server.url + "/")
    page.get_by_label("Email").fill(f"{role}@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(server.url + "/")


def test_review_merge_see_merged_from_unmerge(page: Page, server: Server, tmp_path: Path) -> None:
    log_in(page, server, "organizer")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Merge review").click()
    page.wait_for_url(server.url + "/merge-review")
    cards = page.locator("li.suggestion")
    assert cards.count() == 2
    ngozi, eve = cards.nth(0), cards.nth(1)
    assert "97.0%" in ngozi.inner_text() and "61.0%" in eve.inner_text()
    assert ngozi.get_by_role("link", name="Ngozi Okafor").is_visible()
    assert "mastodon:@ngozi@social.example" in ngozi.inner_text()
    assert "mastodon (2)" in ngozi.inner_text()  # channels and activities side by side
    assert eve.get_by_role("link", name=HOSTILE).count() == 2  # the name as text, both sides
    assert page.locator("main img").count() == 0  # no element was made of it
    screenshot(page, "merge-review.png", tmp_path)

    ngozi.get_by_label("Why (optional)").fill("same person, she told us")
    ngozi.get_by_role("button", name="Merge").click()
    note = page.locator("#merged-note")
    note.wait_for()
    assert "Merged Ngozi Okafor (id:1) into" in note.inner_text()
    assert page.locator("li.suggestion").count() == 1
    note.get_by_role("link").click()
    page.wait_for_url(server.url + "/people/id:2")
    merged = page.locator("#merged-from")
    text = merged.inner_text()
    assert "Ngozi Okafor" in text and "same person, she told us" in text
    assert "email:ngozi@example.org" in page.locator("#main").inner_text()
    screenshot(page, "person-merged-from.png", tmp_path)

    merged.get_by_role("button", name="Unmerge").click()
    back = page.locator("#unmerged-note")
    back.wait_for()
    assert page.locator("#merged-from").count() == 0
    back.get_by_role("link").click()
    page.wait_for_url(server.url + "/people/id:1")
    assert page.get_by_role("heading", level=1).inner_text() == "Ngozi Okafor"
    page.goto(server.url + "/merge-review")
    assert page.locator("li.suggestion").count() == 2  # the suggestion is open again


def test_not_the_same_takes_the_pair_off_the_list(page: Page, server: Server) -> None:
    log_in(page, server, "organizer")
    page.goto(server.url + "/merge-review?min_confidence=0.5")
    eve = page.locator("li.suggestion", has_text="61.0%")
    eve.get_by_role("button", name="Not the same").click()
    page.locator("#apart-note").wait_for()
    assert "min_confidence=0.5" in page.url  # back where the reviewer was
    assert page.locator("li.suggestion").count() == 1


def test_a_viewer_has_no_link_no_page_and_no_unmerge(page: Page, server: Server) -> None:
    log_in(page, server, "viewer")
    assert page.get_by_role("link", name="Merge review").count() == 0
    r = page.goto(server.url + "/merge-review")
    assert r is not None and r.status == 403
    assert "a viewer may not review merges" in page.get_by_role("alert").last.inner_text()
    page.goto(server.url + "/people/id:2")
    assert page.get_by_role("button", name="Unmerge").count() == 0
