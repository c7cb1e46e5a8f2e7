"""Recorded Mastodon answers for the sync tests, shaped as the API docs show them
(../shared/data/formats/mastodon-api/: the Notification, Account and Status entities, the
`Link` header of `GET /api/v1/notifications`), and the routes that serve them.

The organization is `@karmabank@example.social` (account id 1). Its first sync (as of NOW,
back to 90 days before) reads four pages newest first:

    page 1           110 mention (a reply to us) by ada@other.example, 109 favourite by bo
                     (local), 108 reblog by cy@far.example           Link next max_id=108
    page 2 max_id=108  (a 429 with Retry-After, then a 500, then:) 107 follow by di,
                     106 poll (skipped), 105 mention by eve           Link next max_id=105
    page 3 max_id=105  malformed JSON                                 Link next max_id=103
    page 4 max_id=103  102 favourite by ada, 101 follow by fay of 2026-08-01 (before since)

A later sync pages forward: min_id=110 gives 112 favourite by gus, 111 mention by bo;
min_id=112 gives an empty page.

After the notifications, a sync reads the follower list (once a day): two pages, ada (now 1250
followers) and zed (not in the network), then (Link next max_id=9001, a follow's id) di
(11 followers).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tests.connectors.replay import Replay, ReplayServer, page

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
TOKEN = "kb-TEST-token-9f8e7d6c5b4a39281706f5e4d3c2b1a0"  # an access token's shape
DOMAIN = "example.social"
NOTIFICATIONS = "/api/v1/notifications"
VERIFY = "/api/v1/accounts/verify_credentials"
INSTANCE = "/api/v2/instance"
OUR_STATUS = f"https://{DOMAIN}/@karmabank/113500000000000001"

ME = {
    "id": "1", "username": "karmabank", "acct": "karmabank", "display_name": "Karmabank Org",
    "locked": False, "bot": False, "created_at": "2024-01-09T00:00:00.000Z", "note": "",
    "url": f"https://{DOMAIN}/@karmabank", "followers_count": 321, "following_count": 12,
    "statuses_count": 87, "source": {"privacy": "public", "note": ""},
}  # fmt: skip


def account(acct: str, name: str, followers: int, account_id: str) -> dict[str, Any]:
    user, _, host = acct.partition("@")
    return {
        "id": account_id, "username": user, "acct": acct, "display_name": name,
        "locked": False, "bot": False, "created_at": "2023-04-01T00:00:00.000Z",
        "note": "", "url": f"https://{host or DOMAIN}/@{user}", "avatar": "",
        "followers_count": followers, "following_count": 40, "statuses_count": 300,
        "emojis": [], "fields": [],
    }  # fmt: skip


ADA = account("ada@other.example", "Ada Okafor", 1200, "201")
BO = account("bo", "Bo Lindqvist", 85, "202")
CY = account("cy@far.example", "", 40, "203")
DI = account("di", "Di Marsh", 9, "204")
EVE = account("eve@other.example", "Eve Tanaka", 560, "205")
FAY = account("fay", "Fay Ruiz", 3, "206")
GUS = account("gus@far.example", "Gus Ahmed", 77, "207")
ZED = account("zed@elsewhere.example", "Zed Olsen", 12, "299")
FOLLOWERS = "/api/v1/accounts/1/followers"
FOLLOWERS_1 = [{**ADA, "followers_count": 1250}, ZED]
FOLLOWERS_2 = [{**DI, "followers_count": 11}]


def status(
    url: str, content: str, by: dict[str, Any], reply_to: str | None = None
) -> dict[str, Any]:
    return {
        "id": url.rsplit("/", 1)[1], "uri": url, "url": url, "created_at": "2026-11-01T00:00:00Z",
        "account": by, "content": content, "visibility": "public", "sensitive": False,
        "spoiler_text": "", "in_reply_to_id": "113500000000000001" if reply_to else None,
        "in_reply_to_account_id": reply_to, "reblogs_count": 0, "favourites_count": 0,
        "replies_count": 0, "mentions": [], "tags": [], "emojis": [], "media_attachments": [],
    }  # fmt: skip


def notification(
    nid: str, kind: str, by: dict[str, Any], at: str, st: dict[str, Any] | None = None
) -> dict[str, Any]:
    found: dict[str, Any] = {"id": nid, "type": kind, "created_at": at, "account": by}
    if st is not None:
        found["status"] = st
    return found


OURS = status(OUR_STATUS, "<p>Clean-up on Saturday!</p>", ME)
PAGE_1 = [
    notification("110", "mention", ADA, "2026-11-30T10:05:00.000Z", status(
        "https://other.example/@ada/113600000000000110",
        '<p><span class="h-card"><a href="https://example.social/@karmabank">@karmabank</a>'
        "</span> Count me in for Saturday&#39;s clean-up!</p>", ADA, reply_to="1")),
    notification("109", "favourite", BO, "2026-11-29T18:00:00.000Z", OURS),
    notification("108", "reblog", CY, "2026-11-28T09:30:00.000Z", OURS),
]  # fmt: skip
PAGE_2 = [
    notification("107", "follow", DI, "2026-11-20T08:00:00.000Z"),
    notification("106", "poll", ME, "2026-11-15T08:00:00.000Z", OURS),
    notification("105", "mention", EVE, "2026-11-10T16:45:00.000Z", status(
        "https://other.example/@eve/113400000000000105",
        "<p>Thanks <a href=\"https://example.social/@karmabank\">@karmabank</a> for the map</p>",
        EVE)),
]  # fmt: skip
MALFORMED = '[{"id": "104", "type": "mention", "account": {"id": "20'
PAGE_4 = [
    notification("102", "favourite", ADA, "2026-10-02T07:00:00.000Z", OURS),
    notification("101", "follow", FAY, "2026-08-01T07:00:00.000Z"),
]
NEXT_DAY = [
    notification("112", "favourite", GUS, "2026-12-01T09:00:00.000Z", OURS),
    notification("111", "mention", BO, "2026-12-01T08:00:00.000Z", status(
        f"https://{DOMAIN}/@bo/113700000000000111", "<p>See you there @karmabank</p>", BO)),
]  # fmt: skip

# (verb, person, object, text, name) of the activities the first sync imports, newest first
FIRST_SYNC = [
    ("reply", "@ada@other.example", "https://other.example/@ada/113600000000000110",
     "@karmabank Count me in for Saturday's clean-up!", "Ada Okafor"),
    ("like", "@bo@example.social", OUR_STATUS, None, "Bo Lindqvist"),
    ("share", "@cy@far.example", OUR_STATUS, None, "cy"),
    ("follow", "@di@example.social", None, None, "Di Marsh"),
    ("mention", "@eve@other.example", "https://other.example/@eve/113400000000000105",
     "Thanks @karmabank for the map", "Eve Tanaka"),
    ("like", "@ada@other.example", OUR_STATUS, None, "Ada Okafor"),
]  # fmt: skip
SECOND_SYNC = [
    ("like", "@gus@far.example", OUR_STATUS, None, "Gus Ahmed"),
    ("mention", "@bo@example.social", f"https://{DOMAIN}/@bo/113700000000000111",
     "See you there @karmabank", "Bo Lindqvist"),
]  # fmt: skip


def links(server: ReplayServer, *, older: str | None, newer: str | None) -> dict[str, str]:
    found = {}
    if older:
        found["next"] = f"{server.url}{NOTIFICATIONS}?max_id={older}"
    if newer:
        found["prev"] = f"{server.url}{NOTIFICATIONS}?min_id={newer}"
    return found


def serve_account(server: ReplayServer) -> None:
    server.answer("GET", INSTANCE, page({"domain": DOMAIN, "title": "Example Social"}))
    server.answer("GET", VERIFY, page(ME))
    serve_followers(server)


def serve_followers(
    server: ReplayServer, first: list[Any] = FOLLOWERS_1, second: list[Any] = FOLLOWERS_2
) -> None:
    """The follower list's two pages (`Link` next carries a follow's id, 9001)."""
    server.answer("GET", FOLLOWERS, page(first, links={
        "next": f"{server.url}{FOLLOWERS}?max_id=9001", "prev": f"{server.url}{FOLLOWERS}?since_id=9100",
    }))  # fmt: skip
    server.answer("GET", FOLLOWERS, page(second), query={"max_id": "9001"})


def serve_history(
    server: ReplayServer, *, page_2_first: tuple[Replay, ...] = (), delay_page_2: float = 0.0
) -> None:
    """The first sync's four pages; `page_2_first` answered before page 2 (a 429, a 500)."""
    server.answer("GET", NOTIFICATIONS, page(PAGE_1, links=links(server, older="108", newer="110")))
    second = page(PAGE_2, links=links(server, older="105", newer="107"))
    if delay_page_2:
        stalled = Replay(second.status, second.body, second.headers, delay=delay_page_2)
        page_2_first = (*page_2_first, stalled)
    server.answer("GET", NOTIFICATIONS, *page_2_first, second, query={"max_id": "108"})
    bad = Replay(
        200,
        MALFORMED,
        {
            "Content-Type": "application/json",
            "Link": f'<{server.url}{NOTIFICATIONS}?max_id=103>; rel="next"',
        },
    )
    server.answer("GET", NOTIFICATIONS, bad, query={"max_id": "105"})
    server.answer("GET", NOTIFICATIONS, page(PAGE_4, links=links(server, older="101", newer="102")),
                  query={"max_id": "103"})  # fmt: skip


def serve_next_day(server: ReplayServer) -> None:
    server.answer("GET", NOTIFICATIONS, page(NEXT_DAY, links=links(server, older="111", newer="112")),
                  query={"min_id": "110"})  # fmt: skip
    server.answer("GET", NOTIFICATIONS, page([]), query={"min_id": "112"})
