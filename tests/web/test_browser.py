"""The dashboard in a real browser: Debian's Chromium driven by Playwright against the real
server (uvicorn on a free port) over a SQLite store built here. Log in and see the queue, mark an
item done and see the ledger move, a viewer changes nothing (no buttons; a forged POST gets 403),
a comment holding `<script>` shows as text, a refused htmx action shows the server's message in
the page's alert region, /docs works with nothing from elsewhere, and no page loads more than
200 KB of JavaScript.

Screenshots go to docs/img/ only when $KARMABANK_SCREENSHOTS=1; otherwise to the test's
temporary folder, so a test run leaves the git tree clean. The README's (home.png, person.png)
are the demo's, taken by tests/web/test_demo_browser.py; these are of the small network here.

Without /usr/bin/chromium (the `chromium` package) these tests skip, unless
$KARMABANK_REQUIRE_BROWSER=1 (CI), where they fail. Never `playwright install`: the browser is
the system's."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import uvicorn
from fastapi import FastAPI

from karmabank.actions.accounts import add_user
from karmabank.actions.importing import import_files
from karmabank.actions.issues import add_issue
from karmabank.store.open import open_store
from karmabank.web import WebSettings, create_app
from tests.conftest import NOW

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Dialog, Page, Response

CHROMIUM = Path("/usr/bin/chromium")
PASSWORD = "correct horse battery staple"
SCRIPT = "<script>alert(1)</script>"
DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"
MAX_JS = 200 * 1024


def screenshot(page: Page, name: str, tmp_path: Path) -> None:
    """A full-page PNG: into docs/img/ with $KARMABANK_SCREENSHOTS=1, else into tmp_path."""
    folder = DOCS_IMG if os.environ.get("KARMABANK_SCREENSHOTS") == "1" else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 0 and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _need_browser() -> None:
    reason = None
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} not found: install Debian's `chromium` package (.ci/run does)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            reason = "playwright is not installed (pip install -e '.[dev]')"
    if reason is None:
        return
    if os.environ.get("KARMABANK_REQUIRE_BROWSER") == "1":
        pytest.fail(f"KARMABANK_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


def iso(days_ago: float) -> str:
    return (NOW - timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def build_store(db: str, folder: Path) -> None:
    """Ada: a regular who just commented (with a `<script>` in it), was helped and asked once.
    Bo asked a question two days ago; we gave Bo and Cy enough to ask them; Gil was a regular
    and went quiet; a few more like what we post: enough of a network for circles, rhythm, a
    queue of several items and a campaign."""
    rows = ["occurred_at,person,name,verb,direction,channel,text"]
    rows.append(f'{iso(1)},ada@example.org,Ada Lovelace,comment,in,blog,"Great post! {SCRIPT}"')
    for d in (12, 30, 45, 70, 100):
        rows.append(f"{iso(d)},ada@example.org,Ada Lovelace,comment,in,blog,Thanks")
    rows.append(f"{iso(40)},ada@example.org,Ada Lovelace,help,give,blog,")
    rows.append(f"{iso(35)},ada@example.org,Ada Lovelace,attend,ask,blog,")
    for i, name in enumerate(("Bo Brave", "Cy Clear", "Di Diligent", "Ed Eager", "Fay Fair")):
        who = name.split()[0].lower()
        for d in (3 + i, 25 + i, 60 + 2 * i, 150):
            rows.append(f"{iso(d)},{who}@example.org,{name},like,in,blog,")
        rows.append(f"{iso(20 + i)},{who}@example.org,{name},thank,give,blog,")
    rows.append(f"{iso(2)},bo@example.org,Bo Brave,comment,in,blog,When is the next meetup?")
    for who, name in (("bo", "Bo Brave"), ("cy", "Cy Clear")):  # given enough to be asked
        for verb in ("help", "gift", "feature"):
            rows.append(f"{iso(15)},{who}@example.org,{name},{verb},give,blog,")
    for d in (50, 64, 78, 92, 106, 120):  # a regular who went quiet: drifting
        rows.append(f"{iso(d)},gil@example.org,Gil Gone,comment,in,forum,Count me in")
    rows.append(f"{iso(55)},gil@example.org,Gil Gone,thank,give,forum,")
    f = folder / "activities.csv"
    f.write_text("\n".join(rows) + "\n")
    with open_store(db, create=True) as store:
        import_files(store=store, fmt="csv", paths=[f], options={}, now=NOW)
        add_issue(store=store, name="Meetups", keywords=["meetup", "meet"], now=NOW)
        for role in ("organizer", "viewer"):
            add_user(store=store, email=f"{role}@example.org", role=role, now=NOW,
                     password=PASSWORD, actor="test")  # fmt: skip


@dataclass
class Server:
    url: str
    db: str = ""  # the store's SQLite path (the report test reads it offline)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The real app under uvicorn on a free port (port 0: the system picks), in a thread."""
    _need_browser()
    folder = tmp_path_factory.mktemp("browser")
    db = str(folder / "karmabank.db")
    build_store(db, folder)
    with serving(create_app(WebSettings(db=db, now=NOW))) as url:
        yield Server(url, db)


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """The app under uvicorn on a free port (port 0: the system picks), in a thread; its URL."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not uv.started:
        if not thread.is_alive():
            pytest.fail("the server died while starting (see the captured output)")
        if time.monotonic() > deadline:
            pytest.fail("the server did not start within 30 s")
        time.sleep(0.05)
    port = uv.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        uv.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser(server: Server) -> Iterator[Browser]:
    with chromium() as b:
        yield b


@contextmanager
def chromium() -> Iterator[Browser]:
    """Debian's Chromium, headless, through Playwright (never `playwright install`)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    yield pg
    context.close()


def log_in(page: Page, server: Server, role: str, target: str = "/") -> None:
    page.goto(server.url + target)
    assert page.url.startswith(server.url + "/login")  # no session: to the login page
    page.get_by_label("Email").fill(f"{role}@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(server.url + target)


def ada_id(page: Page, server: Server) -> str:
    """Ada's id, from a search on the people page (where the page ends up)."""
    page.goto(f"{server.url}/people?q=ada")
    link = page.locator("#main a", has_text="Ada Lovelace").first
    href = link.get_attribute("href")
    assert href is not None and href.startswith("/people/")
    return href.removeprefix("/people/")


def test_log_in_and_see_the_queue(page: Page, server: Server, tmp_path: Path) -> None:
    log_in(page, server, "organizer")
    assert page.get_by_role("heading", name="Nurture queue").is_visible()
    ada = page.locator(".queue > li", has_text="Ada Lovelace").first
    assert ada.is_visible()
    assert ada.get_by_role("button", name="Done").is_visible()
    assert ada.get_by_role("button", name="Skip").is_visible()
    assert page.locator("#verdict").inner_text() in ("a great sharer", "a hoarder")
    screenshot(page, "small-home.png", tmp_path)


def test_marking_an_item_done_raises_given_on_the_person_page(
    page: Page, server: Server, tmp_path: Path
) -> None:
    log_in(page, server, "organizer")
    pid = ada_id(page, server)
    page.goto(f"{server.url}/people/{pid}")
    before = float(page.locator("#given").inner_text())
    page.goto(server.url + "/")
    item = page.locator(".queue > li", has_text="Ada Lovelace").first
    item_id = item.get_attribute("id")
    item.get_by_role("button", name="Done").click()  # htmx swaps the item in place
    done = page.locator(f"#{item_id}")
    done.get_by_role("status").wait_for()
    assert "Done" in done.inner_text()
    page.goto(f"{server.url}/people/{pid}")
    assert float(page.locator("#given").inner_text()) > before
    screenshot(page, "small-person.png", tmp_path)


def test_a_viewer_sees_no_buttons_and_a_forged_post_is_refused(page: Page, server: Server) -> None:
    log_in(page, server, "viewer")
    assert page.locator(".queue > li").count() >= 1
    assert page.locator(".queue button").count() == 0
    assert page.locator("form[action^='/nurture/']").count() == 0
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    assert token  # the logout form's: the session's own token
    pid = ada_id(page, server)
    page.goto(f"{server.url}/people/{pid}")
    before = page.locator("#given").inner_text()
    for n in range(1, 4):
        for what in ("done", "skip", "snooze"):
            r = page.request.post(f"{server.url}/nurture/{n}/{what}",
                                  form={"csrf_token": token, "days": "7"},
                                  max_redirects=0)  # fmt: skip
            assert r.status == 403, (n, what, r.text())
    page.reload()
    assert page.locator("#given").inner_text() == before
    page.goto(f"{server.url}/campaigns")
    assert page.locator("main form[method=post]").count() == 0
    r = page.request.post(f"{server.url}/campaigns", max_redirects=0,
                          form={"csrf_token": token, "name": "Forged", "action": "share",
                                "budget": "3"})  # fmt: skip
    assert r.status == 403, r.text()


def test_plan_send_and_track_a_campaign(page: Page, server: Server, tmp_path: Path) -> None:
    log_in(page, server, "organizer", "/campaigns")
    page.get_by_label("Name", exact=True).fill("Spring drive")
    page.get_by_label("Action asked").select_option("share")
    page.get_by_label("Budget (asks)").fill("2")
    page.get_by_role("button", name="Create").click()
    page.wait_for_url(f"{server.url}/campaigns?name=Spring+drive")
    assert page.get_by_role("heading", name="Spring drive", exact=True).is_visible()
    assert page.locator("#funnel-planned").inner_text() == "0"
    page.get_by_role("button", name="Plan", exact=True).click()
    plan = page.locator("#plan > li")
    plan.first.wait_for()
    assert plan.count() == 2
    assert "Bo Brave" in page.locator("#plan").inner_text()
    assert page.locator("#funnel-planned").inner_text() == "2"
    page.get_by_role("button", name="Record the planned asks as sent").click()
    page.wait_for_url(f"{server.url}/campaigns?name=Spring+drive")
    assert page.locator("#funnel-sent").inner_text() == "2"
    page.get_by_role("button", name="yes: Bo Brave").click()
    page.wait_for_url(f"{server.url}/campaigns?name=Spring+drive")
    assert page.locator("#funnel-yes").inner_text() == "1"
    row = page.locator("#asks tr", has_text="Bo Brave")
    assert "yes" in row.inner_text()
    screenshot(page, "campaign.png", tmp_path)
    page.goto(server.url + "/campaigns")  # the list opens each campaign
    listed = page.locator("#campaigns tr", has_text="Spring drive")
    assert "sent" in listed.inner_text()
    listed.get_by_role("link", name="Spring drive").click()
    page.wait_for_url(f"{server.url}/campaigns?name=Spring+drive")
    assert page.locator("#funnel-yes").inner_text() == "1"


def test_influencers_per_issue(page: Page, server: Server) -> None:
    log_in(page, server, "viewer", "/influencers")
    page.get_by_label("Issue").select_option("Meetups")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(f"{server.url}/influencers?issue=Meetups")
    assert page.get_by_role("heading", name="Influencers for Meetups").is_visible()
    assert page.locator("#influencers tbody tr").count() >= 1


def test_a_script_in_a_comment_shows_as_text(page: Page, server: Server) -> None:
    dialogs: list[str] = []

    def dialog(d: Dialog) -> None:
        dialogs.append(d.message)
        d.dismiss()

    page.on("dialog", dialog)
    log_in(page, server, "viewer")
    page.goto(f"{server.url}/people?q=ada")
    page.locator("#main a", has_text="Ada Lovelace").first.click()
    page.wait_for_url(f"{server.url}/people/*")
    assert SCRIPT in page.locator("#timeline").inner_text()
    assert page.locator("#timeline script").count() == 0
    assert dialogs == []


def test_no_page_loads_more_than_200_kb_of_javascript(page: Page, server: Server) -> None:
    log_in(page, server, "organizer")
    pid = ada_id(page, server)
    sizes: dict[str, int] = {}

    def count(response: Response) -> None:
        if response.request.resource_type == "script":
            sizes[response.url] = len(response.body())

    errors: list[str] = []  # e.g. the Content-Security-Policy refusing an inline style
    page.on("response", count)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    paths = ("/", "/people", f"/people/{pid}", "/people?status=drifting", "/campaigns",
             "/influencers")  # fmt: skip
    for path in paths:
        sizes.clear()
        page.goto(server.url + path, wait_until="networkidle")
        assert sizes, f"{path} loaded no script (htmx expected)"
        assert sum(sizes.values()) <= MAX_JS, (path, sizes)
    assert errors == []


def test_pages_fit_a_phone_and_work_by_keyboard(browser: Browser, server: Server) -> None:
    context = browser.new_context(viewport={"width": 360, "height": 740})
    try:
        pg = context.new_page()
        pg.goto(server.url + "/login")
        email = pg.get_by_label("Email")
        email.wait_for()
        assert pg.evaluate("document.activeElement.name") == "email"  # autofocus
        pg.keyboard.type("viewer@example.org")
        pg.keyboard.press("Tab")
        pg.keyboard.type(PASSWORD)
        pg.keyboard.press("Enter")
        pg.wait_for_url(server.url + "/", timeout=90_000)  # the first page may rescore
        for path in ("/", "/people", "/people/ada@example.org", "/campaigns", "/influencers"):
            pg.goto(server.url + path)
            wide = pg.evaluate("document.documentElement.scrollWidth")
            assert wide <= 360, (path, wide)  # wide tables scroll inside their own box
    finally:
        context.close()


def test_unknown_person_and_logged_out_pages(page: Page, server: Server) -> None:
    page.goto(server.url + "/people?circle=core")
    assert page.url == f"{server.url}/login?next=/people%3Fcircle%3Dcore"
    log_in(page, server, "viewer", "/people")
    r = page.goto(server.url + "/people/999999")
    assert r is not None and r.status == 404
    assert "no person with id 999999" in page.get_by_role("alert").inner_text()


def test_a_refused_htmx_action_shows_the_server_message(page: Page, server: Server) -> None:
    """Another tab marks an item done; this page's Skip on it is refused (400): htmx swaps
    nothing, and the alert region shows the server's line."""
    log_in(page, server, "organizer")
    item = page.locator(".queue > li", has=page.get_by_role("button", name="Skip")).first
    item_id = (item.get_attribute("id") or "").removeprefix("item-")
    assert item_id.isdigit()
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    elsewhere = page.request.post(f"{server.url}/nurture/{item_id}/done",
                                  form={"csrf_token": token or ""}, max_redirects=0)  # fmt: skip
    assert elsewhere.status == 303
    alert = page.locator("#flash")
    assert not alert.is_visible()  # empty until something fails
    item.get_by_role("button", name="Skip").click()
    alert.wait_for(state="visible")
    assert alert.get_attribute("role") == "alert"
    assert alert.inner_text() == f"nurture item {item_id} is already done"
    assert page.locator(f"#item-{item_id}").get_by_role("button", name="Skip").is_visible()


def test_the_api_reference_needs_nothing_from_elsewhere(page: Page, server: Server) -> None:
    requested: list[str] = []
    errors: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    r = page.goto(server.url + "/docs", wait_until="networkidle")
    assert r is not None and r.status == 200  # public, like /openapi.json
    assert page.get_by_role("heading", name="GET /api/people/{ref}").is_visible()
    assert page.get_by_role("heading", name="Authentication").is_visible()
    assert all(u.startswith(server.url) for u in requested), requested
    assert errors == []
