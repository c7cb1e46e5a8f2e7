"""The Bluesky connector against the replay server over real HTTP (loopback), through the
real `HttpTransport`: recorded answers shaped as the lexicon and the AT Protocol write them
(tests/connectors/fixtures/bluesky/), several pages with cursors, a 429 with Retry-After, a 500
then success, a malformed page, a 401, an expired token that refreshes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from karmabank.connectors.base import ConnectionSettings, Connector, Page
from karmabank.connectors.bluesky import BlueskyConnector, expires_within
from karmabank.connectors.bluesky_items import KEY_PREFIX, WalkState
from karmabank.connectors.http import HttpTransport, Policy
from karmabank.connectors.registry import make_connector
from karmabank.errors import ConfigError, ConnectorError, CredentialsRefused
from karmabank.model import IdentityKey, to_micros
from karmabank.sources.base import BadRow, ParsedRow, SkippedRow, SourceItem
from tests.connectors.replay import Replay, ReplayServer, page

FIXTURES = Path(__file__).parent / "fixtures" / "bluesky"
PASSWORD = "abcd-efgh-ijkl-mnop"  # an app password's shape
HANDLE = "karmabank-org.bsky.social"
ORG = IdentityKey("bluesky", "did:plc:2txslrhbpy2quzidimjnvhet")
ADA = IdentityKey("bluesky", "did:plc:2f6j2vb3xdwd6xazphnpxdre")
BO = IdentityKey("bluesky", "did:plc:rmiqtwukvgrvadwb5r6dmtqe")
CY = IdentityKey("bluesky", "did:plc:7biz7zlmqjhndtuudk2ftqz6")
DI = IdentityKey("bluesky", "did:plc:efpoqksd7z7o24e5no6umxb3")
EVE = IdentityKey("bluesky", "did:plc:dvkouxlnt3w4fgaml454i64a")
FAY = IdentityKey("bluesky", "did:plc:sqla5vvndrgabh6tngb5obzh")
GUS = IdentityKey("bluesky", "did:plc:3ddmqrww2zavfcsuuhvip7s4")
OUR_POSTS = [f"at://{ORG.key}/app.bsky.feed.post/{rk}" for rk in ("3lbq2aaaaa2k2", "3lbp7bbbbb2k2")]
SINCE = datetime(2026, 9, 1, tzinfo=UTC)
SESSION = "/xrpc/com.atproto.server.createSession"
REFRESH = "/xrpc/com.atproto.server.refreshSession"
PROFILE = "/xrpc/app.bsky.actor.getProfile"
LIST = "/xrpc/app.bsky.notification.listNotifications"
EXPIRED = Replay(400, {"error": "ExpiredToken", "message": "Token has expired"})
REFUSED = Replay(
    401, {"error": "AuthenticationRequired", "message": "Invalid identifier or password"}
)


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def cursor_of(name: str) -> str:
    value = fixture(name)["cursor"]
    assert isinstance(value, str)
    return value


C1, C2 = cursor_of("listNotifications-1"), cursor_of("listNotifications-2")


@pytest.fixture
def server() -> Iterator[ReplayServer]:
    with ReplayServer() as s:
        s.answer("POST", SESSION, page(fixture("createSession")))
        s.answer("POST", REFRESH, page(fixture("refreshSession")))
        s.answer("GET", PROFILE, page(fixture("getProfile")), query={"actor": ORG.key})
        yield s


def serve_history(s: ReplayServer, *first: Replay, second: Replay | None = None) -> None:
    """The three pages of the first sync (newest first), `first` before page 1's answer."""
    s.answer("GET", LIST, *first, page(fixture("listNotifications-1")), query={"limit": "100"})
    s.answer("GET", LIST, *([second] if second else []), page(fixture("listNotifications-2")),
             query={"cursor": C1})  # fmt: skip
    s.answer("GET", LIST, page(fixture("listNotifications-3")), query={"cursor": C2})


OPEN: list[HttpTransport] = []


@pytest.fixture(autouse=True)
def _close_transports() -> Iterator[None]:
    yield
    while OPEN:
        OPEN.pop().close()


class Run:
    """A connector on a real transport to the server, with the waits and progress lines
    (every transport is closed when the test ends)."""

    def __init__(self, server: ReplayServer) -> None:
        self.waits: list[float] = []
        self.lines: list[str] = []
        settings = ConnectionSettings(
            name=f"bluesky {HANDLE}",
            base_url=server.url,
            secret_env="KB_BLUESKY_PASSWORD",
            options={"handle": HANDLE},
        )
        self.transport = HttpTransport(
            base_url=server.url,
            connection=settings.name,
            secret_env=settings.secret_env,
            secrets=(PASSWORD,),
            policy=Policy(backoff=0.001, max_wait=30),
            progress=self.lines.append,
            sleep=self.waits.append,
        )
        OPEN.append(self.transport)
        self.connector: Connector = make_connector(
            "bluesky", settings, secret=PASSWORD, transport=self.transport
        )

    def pages(self, cursor: str | None = None) -> list[Page]:
        return list(self.connector.pages(cursor, SINCE))


def rows(pages: list[Page]) -> list[tuple[str, str, str, str | None, str | None, str | None]]:
    return [
        (r.verb, r.person.key, r.direction, r.object, r.text, r.name)
        for p in pages
        for r in p.items
        if isinstance(r, ParsedRow)
    ]


def others(items: list[SourceItem]) -> list[tuple[str, int, str]]:
    return [
        (type(i).__name__, i.line, i.reason) for i in items if isinstance(i, BadRow | SkippedRow)
    ]


def list_cursors(server: ReplayServer) -> list[str | None]:
    return [r.param("cursor") for r in server.requests_to(LIST)]


def test_check_names_the_account_by_its_did(server: ReplayServer) -> None:
    run = Run(server)
    account = run.connector.check()
    assert (account.identity, account.name, account.followers) == (ORG, HANDLE, 1287)
    (login,) = server.requests_to(SESSION)
    assert json.loads(login.body) == {"identifier": HANDLE, "password": PASSWORD}
    (profile,) = server.requests_to(PROFILE)
    access = fixture("createSession")["accessJwt"]
    assert profile.headers["authorization"] == f"Bearer {access}"
    assert PASSWORD not in repr(run.connector)


def test_first_sync_walks_back_to_since(server: ReplayServer) -> None:
    serve_history(
        server,
        second=Replay(429, {"error": "RateLimitExceeded"}, {"Retry-After": "1"}),
    )
    server.answer("GET", LIST, Replay(500, {"error": "InternalServerError"}),
                  page(fixture("listNotifications-3")), query={"cursor": C2})  # fmt: skip
    run = Run(server)
    pages = run.pages()
    assert list_cursors(server) == [None, C1, C1, C2, C2]
    assert [p.url for p in pages] == [
        f"{server.url}{LIST}?limit=100",
        f"{server.url}{LIST}?limit=100&cursor={C1.replace(':', '%3A')}",
        f"{server.url}{LIST}?limit=100&cursor={C2.replace(':', '%3A')}",
    ]
    assert pages[0].note == "first sync: back to 2026-09-01 00:00 UTC"
    assert [p.note for p in pages[1:]] == [None, None]
    assert 1.0 in run.waits  # the Retry-After, waited (and shown) rather than retried at once
    assert any("rate limited (429)" in line for line in run.lines)
    ours, theirs = OUR_POSTS
    assert rows(pages) == [
        ("reply", ADA.key, "in", ours, "Count me in for Saturday's clean-up!", "Ada Okafor"),
        ("like", BO.key, "in", ours, None, "Bo Lindqvist"),
        (
            "follow",
            CY.key,
            "in",
            f"at://{CY.key}/app.bsky.graph.follow/3lbq2fffff2k2",
            None,
            "cy.example.org",
        ),
        ("share", DI.key, "in", theirs, None, "Di Marsh"),
        ("share", ADA.key, "in", theirs, "This is how it's done <b>properly</b> 👇", "Ada Okafor"),
        (
            "mention",
            EVE.key,
            "in",
            f"at://{EVE.key}/app.bsky.feed.post/3lbp6mmmmm2k2",
            "Thanks @karmabank-org.bsky.social for the map",
            "Eve Tanaka",
        ),
        (
            "like",
            BO.key,
            "in",
            f"at://{ORG.key}/app.bsky.feed.post/3lbm3ccccc2k2",
            None,
            "Bo Lindqvist",
        ),
    ]  # Fay's follow of 2026-08-15 is before `since`: not read
    assert others(pages[0].items) == [
        ("SkippedRow", 3, "starterpack-joined notifications are not activities")
    ]
    assert others(pages[1].items) == [("BadRow", 3, "a notification whose author has no DID")]
    first = [r for r in pages[0].items if isinstance(r, ParsedRow)][0]
    assert first.source_key == f"{KEY_PREFIX}at://{ADA.key}/app.bsky.feed.post/3lbq5rrrrr2k2"
    assert first.occurred_at == to_micros(datetime(2026, 11, 30, 10, 5, 0, 123000, tzinfo=UTC))
    assert (first.channel, first.line) == ("bluesky", 1)
    top = {"at": first.occurred_at, "uris": [first.source_key.removeprefix(KEY_PREFIX)]}
    assert [json.loads(p.cursor or "") for p in pages] == [
        {"mark": None, "walk": {"cursor": C1, "top": top, "bad": 0}},
        {"mark": None, "walk": {"cursor": C2, "top": top, "bad": 0}},
        {"mark": top, "walk": None},
    ]


def test_next_sync_stops_at_the_mark(server: ReplayServer) -> None:
    serve_history(server)
    done = Run(server).pages()[-1].cursor
    server.answer("GET", LIST, page(fixture("listNotifications-next-day")), query={"limit": "100"})
    before = len(server.requests_to(LIST))
    pages = Run(server).pages(done)
    assert list_cursors(server)[before:] == [None]  # one page: the mark is on it
    assert rows(pages) == [
        ("like", GUS.key, "in", OUR_POSTS[0], None, "Gus Ahmed"),
        ("reply", FAY.key, "in", OUR_POSTS[0], "Can I bring my kids?", "Fay Ruiz"),
    ]
    state = WalkState.parse(pages[-1].cursor)
    assert state.walk is None and state.mark is not None
    assert state.mark.at == to_micros(datetime(2026, 12, 1, 8, 30, tzinfo=UTC))
    again = Run(server).pages(pages[-1].cursor)  # nothing new: an empty page, the same cursor
    assert [(p.items, p.cursor) for p in again] == [([], pages[-1].cursor)]


def test_a_walk_cut_off_resumes_without_loss_or_repeat(server: ReplayServer) -> None:
    serve_history(server)
    whole = rows(Run(server).pages())
    walk = Run(server).connector.pages(None, SINCE)
    first = next(walk)  # the sync stores page 1 and its cursor, then is killed
    del walk  # abandoned mid-walk
    start = len(server.requests_to(LIST))
    rest = Run(server).pages(first.cursor)
    # the walk goes on at page 2, then a fresh walk from the newest finds nothing new
    assert list_cursors(server)[start:] == [C1, C2, None]
    assert rows([first, *rest]) == whole
    assert WalkState.parse(rest[-1].cursor) == WalkState.parse(Run(server).pages()[-1].cursor)


def test_a_malformed_page_is_quarantined_and_read_again_next_time(server: ReplayServer) -> None:
    broken = Replay(200, '{"cursor": "x", "notifications": [{"uri": "at://', {
        "Content-Type": "application/json"})  # fmt: skip
    serve_history(server)
    server.answer("GET", LIST, broken, broken, page(fixture("listNotifications-2")),
                  query={"cursor": C1})  # fmt: skip
    pages = Run(server).pages()
    assert list_cursors(server) == [None, C1, C1]  # fetched once more, then quarantined
    assert len(pages) == 2 and C1.replace(":", "%3A") in pages[1].url
    (bad,) = pages[1].items
    assert isinstance(bad, BadRow)
    assert bad.reason == "a page that is not a listNotifications answer"
    assert bad.raw.startswith('{"cursor": "x"')
    assert pages[1].note == "a page came back malformed: read again next sync"
    state = WalkState.parse(pages[1].cursor)
    assert state.mark is None and state.walk is not None
    assert (state.walk.cursor, state.walk.bad) == (C1, 1)
    rest = Run(server).pages(pages[1].cursor)  # the page is whole again
    assert rows(pages + rest) == rows(Run(server).pages())
    assert WalkState.parse(rest[-1].cursor).walk is None


def test_a_page_malformed_once_is_fetched_again(server: ReplayServer) -> None:
    serve_history(server, second=Replay(200, "<html>502 Bad Gateway</html>"))
    pages = Run(server).pages()
    assert list_cursors(server) == [None, C1, C1, C2]
    assert [others(p.items) for p in pages][1] == [
        ("BadRow", 3, "a notification whose author has no DID")
    ]


def test_a_page_malformed_sync_after_sync_is_given_up(server: ReplayServer) -> None:
    serve_history(server)
    server.answer("GET", LIST, Replay(200, "not json"), query={"cursor": C1})  # for good
    cursor = Run(server).pages()[-1].cursor
    for _ in range(2):
        pages = Run(server).pages(cursor)
        cursor = pages[-1].cursor
    assert pages[-1].note is not None and "malformed 3 times" in pages[-1].note
    state = WalkState.parse(cursor)
    assert state.walk is None and state.mark is not None  # the walk is over: no endless retry
    assert state.mark.at == to_micros(datetime(2026, 11, 30, 10, 5, 0, 123000, tzinfo=UTC))


def test_refused_app_password_is_one_line_without_the_secret(server: ReplayServer) -> None:
    server.answer("POST", SESSION, REFUSED)
    with pytest.raises(CredentialsRefused) as e:
        Run(server).connector.check()
    assert str(e.value) == (
        f"bluesky {HANDLE}: Bluesky refused the handle {HANDLE} and the app password in "
        "$KB_BLUESKY_PASSWORD"
    )
    assert PASSWORD not in str(e.value) and "\n" not in str(e.value)


def test_an_expired_token_is_refreshed_once(server: ReplayServer) -> None:
    serve_history(server, EXPIRED)
    pages = Run(server).pages()
    assert len(rows(pages)) == 7
    access, refresh = fixture("createSession")["accessJwt"], fixture("createSession")["refreshJwt"]
    renewed = fixture("refreshSession")["accessJwt"]
    (renewal,) = server.requests_to(REFRESH)
    assert renewal.headers["authorization"] == f"Bearer {refresh}" and renewal.body == b""
    assert [r.headers["authorization"] for r in server.requests_to(LIST)] == [
        f"Bearer {access}",
        *[f"Bearer {renewed}"] * 3,
    ]


@pytest.mark.parametrize("refused", ["list", "refresh"])
def test_a_second_refusal_is_credentials_refused(server: ReplayServer, refused: str) -> None:
    if refused == "list":
        serve_history(server, Replay(401, {"error": "AuthenticationRequired"}))
        server.answer("GET", LIST, Replay(401, {"error": "InvalidToken"}), query={"limit": "100"})
    else:
        serve_history(server, EXPIRED)
        server.answer("POST", REFRESH, Replay(400, {"error": "ExpiredToken"}))
    with pytest.raises(CredentialsRefused) as e:
        Run(server).pages()
    assert str(e.value).startswith(f"bluesky {HANDLE}: ")
    assert len(server.requests_to(REFRESH)) == 1


def test_an_access_token_about_to_expire_is_refreshed_first(server: ReplayServer) -> None:
    server.answer("POST", SESSION, page(fixture("createSession-expiring")))
    serve_history(server)
    Run(server).pages()
    assert len(server.requests_to(REFRESH)) == 1
    renewed = fixture("refreshSession")["accessJwt"]
    assert {r.headers["authorization"] for r in server.requests_to(LIST)} == {f"Bearer {renewed}"}
    assert not expires_within(renewed, 60, datetime(2026, 12, 1, tzinfo=UTC).timestamp())
    assert not expires_within("not-a-jwt", 60, 0) and not expires_within(None, 60, 0)


def test_the_organization_itself_is_skipped(server: ReplayServer) -> None:
    own = fixture("listNotifications-3")
    own["notifications"][0]["author"]["did"] = ORG.key
    server.answer("GET", LIST, page(own), query={"limit": "100"})
    pages = Run(server).pages()
    assert others(pages[0].items) == [
        ("SkippedRow", 1, "a notification from the organization's own account")
    ]


def test_a_stored_cursor_from_elsewhere_is_one_clear_error(server: ReplayServer) -> None:
    with pytest.raises(ConnectorError, match="not one this version wrote"):
        Run(server).pages("110234982349")
    with pytest.raises(ConnectorError, match="not one this version wrote"):
        Run(server).pages('{"mark": {"at": "soon", "uris": []}, "walk": null}')


def test_a_connection_without_a_handle_is_refused() -> None:
    settings = ConnectionSettings(name="bluesky ?", base_url="https://bsky.social", secret_env="V")
    transport = HttpTransport(base_url="https://bsky.social", connection="x", secret_env="V")
    OPEN.append(transport)
    with pytest.raises(ConfigError, match="needs its handle"):
        BlueskyConnector(settings, secret=PASSWORD, transport=transport)


def test_keys_never_meet_the_repository_importers() -> None:
    """The organization's own records (bluesky-repo) and what came in (notifications) are
    different activities: their keys differ by prefix, whatever the URIs."""
    from karmabank.sources.base import InputFile
    from karmabank.sources.bluesky_repo import BlueskyRepoSource

    car = Path(__file__).parents[1] / "sources" / "fixtures" / "bluesky-repo" / "org.car"
    with InputFile(car) as f:
        repo_keys = {
            i.source_key for i in BlueskyRepoSource({}).read(f) if isinstance(i, ParsedRow)
        }
    assert repo_keys and not any(k.startswith(KEY_PREFIX) for k in repo_keys)
    for k in repo_keys:  # the same record seen by both would still be two keys
        uri = k.removeprefix("bluesky-repo:").partition("#")[0]
        assert KEY_PREFIX + uri not in repo_keys


def test_a_refresh_lost_to_the_network_is_no_refusal(server: ReplayServer) -> None:
    serve_history(server, EXPIRED)
    server.answer("POST", REFRESH, Replay(503, {"error": "UpstreamFailure"}))
    with pytest.raises(ConnectorError) as e:
        Run(server).pages()
    assert not isinstance(e.value, CredentialsRefused)
    assert "503" in str(e.value) and len(server.requests_to(REFRESH)) == 5  # 1 + 4 retries
