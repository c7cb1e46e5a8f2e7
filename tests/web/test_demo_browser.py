"""The demo's pages in Debian's Chromium, as the README shows them (issue 19: its screenshots
are real-data pages): `karmabank demo`'s database (3,000 people, 25,000 activities, built by
the same action), served by the real app; the home page and the tour's person, at 1400 px. No
request leaves the machine, no console error; the queue names people (never an internal id),
the person page shows their scores with reasons, their rhythm strip drawn and their timeline.
The screenshots go to docs/img/home.png and person.png (the README's) only with
$KARMABANK_SCREENSHOTS=1, else to the test's folder."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from karmabank.actions.accounts import add_user
from karmabank.actions.demo import DEMO_NOW, build_demo
from karmabank.settings import Settings
from karmabank.store.open import open_store
from karmabank.web import WebSettings, create_app
from tests.web.test_browser import PASSWORD, Server, _need_browser, chromium, screenshot, serving
from tests.web.test_day_browser import Watched

if TYPE_CHECKING:
    from playwright.sync_api import Browser

TOUR_PERSON = re.compile(r"^karmabank person (\S+)$")


@pytest.fixture(scope="module")
def demo() -> Iterator[tuple[Server, str]]:
    """The demo served, and the person its tour shows."""
    _need_browser()
    import tempfile

    with tempfile.TemporaryDirectory(prefix="karmabank-demo-web-") as folder:
        db = str(Path(folder) / "demo.db")
        summary = build_demo(settings=Settings(db=db))
        person = next(m.group(1) for cmd, _ in summary.tour if (m := TOUR_PERSON.match(cmd)))
        with open_store(db) as store:
            add_user(store=store, email="organizer@example.org", role="organizer",
                     now=DEMO_NOW, password=PASSWORD, actor="test")  # fmt: skip
        with serving(create_app(WebSettings(db=db))) as url:
            yield Server(url, db), person


@pytest.fixture(scope="module")
def browser(demo: tuple[Server, str]) -> Iterator[Browser]:
    with chromium() as b:
        yield b


@pytest.fixture
def watched(browser: Browser) -> Iterator[Watched]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(90_000)  # the first page rescores the demo
    yield Watched(page)
    context.close()


def test_the_demo_home_and_person_pages(
    watched: Watched, demo: tuple[Server, str], tmp_path: Path
) -> None:
    server, person = demo
    page = watched.page
    page.goto(server.url + "/")
    page.get_by_label("Email").fill("organizer@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(server.url + "/")
    items = page.locator(".queue > li")
    assert items.count() == 10  # the queue's default limit: the demo has more than enough
    names = [items.nth(i).locator("a").first.inner_text() for i in range(items.count())]
    assert all(n and not re.fullmatch(r"(person|node) \d+", n) for n in names), names
    assert page.locator("#as-of").inner_text().startswith("Scores as of 2026-11-26")
    assert page.locator("#verdict").inner_text() in ("a great sharer", "a hoarder")
    screenshot(page, "home.png", tmp_path)

    page.goto(f"{server.url}/people/{person}")
    assert page.locator("h1").inner_text().strip()
    strip = page.locator("img[src$='/rhythm.svg']")
    strip.wait_for()
    page.wait_for_function(
        "() => [...document.images].every(i => i.complete)", timeout=90_000
    )  # fmt: skip
    assert strip.evaluate("i => i.naturalWidth") > 0  # drawn, not a broken image
    assert page.locator("#given").inner_text()
    assert page.locator("table").count() >= 1  # the timeline
    screenshot(page, "person.png", tmp_path)
    assert watched.outside == [] and watched.errors == []
