"""The charts in a real browser (issue 19): /charts draws the four network charts and the person
page its rhythm strip, at 1400 px and 360 px, with no request leaving the machine and no console
error; the weekly report, opened from a file:// URL with every other request aborted, draws every
chart. Screenshots go to the test's temporary folder (looked at while writing these tests).

Same server and store as `test_browser.py` (its fixtures, a module-scoped server of our own)."""

# ruff: noqa: F811 (the fixtures imported from test_browser are parameters here)
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest

from tests.cli_helpers import run
from tests.conftest import NOW
from tests.web.test_browser import (  # noqa: F401 (fixtures)
    Server,
    ada_id,
    browser,
    log_in,
    screenshot,
    server,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Request

WIDTHS = (1400, 360)
CHARTS = ("rhythm", "funnel", "share", "circles")
FAVICON = "/static/favicon.svg"
# A drawn Vega chart: its SVG holds mark groups with at least one shape in them.
MARKS = "g.mark-rect path, g.mark-line path, g.mark-symbol path, g.mark-text text"


class Watched:
    """What a page asked for and said: requests off the loopback, failures, console errors."""

    def __init__(self, page: Page, allowed: tuple[str, ...]) -> None:
        self.outside: list[str] = []
        self.failed: list[str] = []
        self.errors: list[str] = []
        self.allowed = allowed
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("requestfailed", self._failed)
        page.on(
            "response",
            lambda r: self.failed.append(f"{r.url} HTTP {r.status}") if r.status >= 400 else None,
        )
        page.route("**/*", self._route)

    def _failed(self, request: Request) -> None:
        # Chromium fetches a page's icon itself, after the page has loaded, and cancels that fetch
        # when the page is left (net::ERR_ABORTED): a test that logs in and moves on at once can
        # leave the home page in that instant. Not a failure of the app; the icon's HTTP status
        # is still checked above like every other response's.
        if (
            request.failure == "net::ERR_ABORTED"
            and request.resource_type == "other"
            and urlsplit(request.url).path == FAVICON
        ):
            return
        self.failed.append(f"{request.url} {request.failure}")

    def _route(self, route: object, request: Request) -> None:
        url = urlsplit(request.url)
        if url.scheme in self.allowed or url.hostname == "127.0.0.1":
            route.continue_()  # type: ignore[attr-defined]
        else:
            self.outside.append(request.url)
            route.abort()  # type: ignore[attr-defined]

    def clean(self) -> None:
        assert self.outside == [] and self.failed == [] and self.errors == [], (
            self.outside, self.failed, self.errors,
        )  # fmt: skip


@pytest.fixture(params=WIDTHS, ids=lambda w: f"{w}px")
def wide_page(request: pytest.FixtureRequest, browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": request.param, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(60_000)  # the first drawing of a process starts Vega's engine
    yield pg
    context.close()


def _drawn(page: Page, selector: str) -> int:
    """How many SVGs under `selector` hold marks."""
    found: int = page.evaluate(
        "([sel, marks]) => [...document.querySelectorAll(sel)]"
        ".filter(s => s.querySelectorAll(marks).length > 0).length",
        [selector, MARKS],
    )
    return found


def test_the_charts_page_draws_the_four_charts(
    wide_page: Page, server: Server, tmp_path: Path
) -> None:
    watched = Watched(wide_page, ("data",))
    log_in(wide_page, server, "organizer", "/charts")
    for name in CHARTS:
        assert wide_page.locator(f"#chart-{name} h2").is_visible()
    assert _drawn(wide_page, "#main .vega-chart svg") == len(CHARTS)
    width = wide_page.viewport_size["width"] if wide_page.viewport_size else 0
    box = wide_page.locator("#chart-rhythm svg").bounding_box()
    assert box is not None and box["width"] <= width  # scaled to fit, even at 360 px
    assert wide_page.get_by_role("link", name="Charts").get_attribute("aria-current") == "page"
    screenshot(wide_page, f"charts-{width}.png", tmp_path)
    watched.clean()


def test_the_person_page_shows_the_rhythm_strip(
    wide_page: Page, server: Server, tmp_path: Path
) -> None:
    watched = Watched(wide_page, ("data",))
    log_in(wide_page, server, "organizer")
    pid = ada_id(wide_page, server).removeprefix("id:")
    with wide_page.expect_response(f"**/people/{pid}/rhythm.svg") as got:
        wide_page.goto(f"{server.url}/people/id:{pid}")
    response = got.value
    assert response.status == 200 and response.headers["content-type"] == "image/svg+xml"
    assert b"<script" not in response.body() and b"mark-rect" in response.body()
    strip = wide_page.locator("img.rhythm-strip")
    strip.scroll_into_view_if_needed()
    wide_page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=strip.element_handle()
    )
    assert "Active days of Ada Lovelace" in (strip.get_attribute("alt") or "")
    width = wide_page.viewport_size["width"] if wide_page.viewport_size else 0
    screenshot(wide_page, f"person-strip-{width}.png", tmp_path)
    watched.clean()


def test_the_report_opened_offline_draws_every_chart(
    browser: Browser, server: Server, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report.html"
    assert run(capsys, "rescore", "--db", server.db, "--now", NOW.isoformat()).code == 0
    made = run(capsys, "report", "--html", str(out), "--db", server.db, "--now", NOW.isoformat())
    assert made.code == 0 and made.out.startswith("wrote "), made
    assert out.stat().st_size > 0
    context = browser.new_context(viewport={"width": 900, "height": 900}, offline=True)
    page = context.new_page()
    watched = Watched(page, ("file",))
    page.goto(out.as_uri())
    assert _drawn(page, "figure svg") == len(CHARTS)
    assert page.locator("script").count() == 0
    assert page.get_by_role("heading", name="Weekly report").is_visible()
    screenshot(page, "report.png", tmp_path)
    watched.clean()
    context.close()
