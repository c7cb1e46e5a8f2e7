"""The pages of the day's work (issue 19) in Debian's Chromium, at 1400 and 360 px wide: no
request leaves the machine (any non-loopback request fails the test), no console error, every
visible input labelled, nothing wider than the screen at 360 px, the person page's forms
reachable by keyboard; a screenshot of each page and width into the test's folder (docs/img/
with $KARMABANK_SCREENSHOTS=1, as tests/web/test_browser.py does)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest

from tests.web.test_browser import Server, ada_id, browser, log_in, screenshot, server

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Route

__all__ = ["browser", "server"]  # the fixtures, shared with tests/web/test_browser.py

WIDTHS = (1400, 360)
PAGES = ("/", "/people", "PERSON", "/influencers?issue=Meetups", "/campaigns")
UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea')]
  .filter(e => e.type !== 'hidden' && e.offsetParent !== null)
  .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))
  .map(e => e.outerHTML)"""


class Watched:
    """A page whose requests off the loopback are refused and recorded, and console errors."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.outside: list[str] = []
        self.errors: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.context.route("**/*", self._route)

    def _route(self, route: Route) -> None:
        host = urlsplit(route.request.url).hostname
        if route.request.url.startswith(("data:", "blob:")) or host in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            self.outside.append(route.request.url)
            route.abort()


@pytest.fixture(params=WIDTHS, ids=lambda w: f"{w}px")
def watched(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Watched]:
    context = browser.new_context(viewport={"width": request.param, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(60_000)  # the influencers' first rescore, on a shared machine
    yield Watched(pg)
    context.close()


def test_the_days_pages_at_each_width(watched: Watched, server: Server, tmp_path: Path) -> None:
    page = watched.page
    width = page.viewport_size["width"] if page.viewport_size else 0
    log_in(page, server, "organizer")
    person = f"/people/{ada_id(page, server)}"
    for path in PAGES:
        target = person if path == "PERSON" else path
        page.goto(server.url + target)
        assert page.locator("#as-of").inner_text().startswith("Scores as of "), target
        assert page.evaluate(UNLABELLED) == [], target
        scroll = page.evaluate("document.documentElement.scrollWidth")
        assert scroll <= width, (target, scroll)  # nothing wider than the screen
        name = "person" if path == "PERSON" else path.strip("/").split("?")[0] or "home"
        screenshot(page, f"day-{name}-{width}.png", tmp_path)
    assert watched.outside == [] and watched.errors == []


def test_the_person_page_works_by_keyboard(watched: Watched, server: Server) -> None:
    page = watched.page
    log_in(page, server, "organizer")
    page.goto(f"{server.url}/people/{ada_id(page, server)}")
    page.locator("#give-verb").focus()
    page.keyboard.press("Tab")  # verb → channel → text → the button, in reading order
    assert page.evaluate("document.activeElement.id") == "give-channel"
    page.keyboard.type("blog")
    page.keyboard.press("Tab")
    page.keyboard.type("Thanks for the photos")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Record give"
    page.keyboard.press("Enter")
    page.wait_for_url("**#timeline-h")
    assert "Thanks for the photos" in page.locator("#timeline").inner_text()
    page.get_by_role("link", name="everything").click()
    page.wait_for_url("**whose=all#timeline-h")  # the click navigates: wait for the new page
    page.wait_for_load_state("load")
    current = page.locator('a[aria-current="true"]', has_text="everything")
    assert current.count() == 1  # the new page names its own choice
    page.locator("#timeline").wait_for(state="visible")
    assert "Thanks for the photos" in page.locator("#timeline").inner_text()
    assert watched.outside == [] and watched.errors == []
