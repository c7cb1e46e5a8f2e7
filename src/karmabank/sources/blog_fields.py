"""What the blog importers (`wxr`, `feed`) read out of their fields: HTML as one line of
text, WordPress's times, and the identities a commenter's email and website give."""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

from karmabank.errors import IdentityError
from karmabank.identities import normalize_identity, normalize_url
from karmabank.model import IdentityKey
from karmabank.sources.base import parse_time

_TAG = re.compile(r"<[^>]*>")
# what a page runs or styles itself with is not its text
_HIDDEN_OPEN = re.compile(r"<(script|style)\b", re.IGNORECASE)
_HIDDEN_CLOSE = {
    "script": re.compile(r"</script\b[^>]*>?", re.IGNORECASE),
    "style": re.compile(r"</style\b[^>]*>?", re.IGNORECASE),
}
_BREAK = re.compile(r"<br\s*/?>|</p>", re.IGNORECASE)


def plain_text(markup: str | None) -> str | None:
    """A comment's or post's HTML as one line of text: scripts and styles out, tags out (a
    line break or paragraph end is a space), entities decoded, runs of white space one
    space."""
    if not markup:
        return None
    if "<" in markup:
        markup = _TAG.sub("", _BREAK.sub(" ", _without_hidden(markup)))
    text = " ".join(html.unescape(markup).split())
    return text or None


def _without_hidden(markup: str) -> str:
    """The markup without its script and style elements (one that is never closed runs to
    the end, as in a browser), in one pass over it."""
    parts, at = [], 0
    while (m := _HIDDEN_OPEN.search(markup, at)) is not None:
        parts.append(markup[at : m.start()])
        close = _HIDDEN_CLOSE[m.group(1).lower()].search(markup, m.end())
        if close is None:
            return " ".join(parts)
        parts.append(" ")
        at = close.end()
    parts.append(markup[at:])
    return "".join(parts)


def one_line(text: str | None) -> str:
    return " ".join(html.unescape(text or "").split())


_DAYS: dict[str, int] = {}  # "YYYY-MM-DD" -> microseconds of its midnight (UTC)
_EMAILS: dict[str, IdentityKey | None] = {}
CACHED = 100_000


def wp_time(text: str) -> int:
    """`YYYY-MM-DD HH:MM:SS` (how WordPress writes times), read as UTC, in microseconds; other
    forms through `parse_time`. ValueError when it is not a time in the supported range."""
    if len(text) == 19 and text[10] == " " and text[13] == ":" and text[16] == ":":
        day = _DAYS.get(text[:10])
        if day is None:
            day = parse_time(text[:10])
            if len(_DAYS) > CACHED:
                _DAYS.clear()
            _DAYS[text[:10]] = day
        h, m, sec = text[11:13], text[14:16], text[17:19]
        if h.isdigit() and m.isdigit() and sec.isdigit() and h < "24" and m < "60" and sec < "60":
            return day + (int(h) * 3600 + int(m) * 60 + int(sec)) * 1_000_000
    return parse_time(text)


def email_identity(email: str) -> IdentityKey | None:
    if not email:
        return None
    if email in _EMAILS:
        return _EMAILS[email]
    key: IdentityKey | None
    try:
        key = normalize_identity("email", email)
    except IdentityError:
        key = None
    if len(_EMAILS) > CACHED:
        _EMAILS.clear()
    _EMAILS[email] = key
    return key


def web_identity(url: str) -> IdentityKey | None:
    if not url or url in ("http://", "https://"):
        return None
    try:
        return normalize_identity("web", url)
    except IdentityError:
        return None


def commenter(email: str, url: str) -> tuple[IdentityKey | None, tuple[IdentityKey, ...]]:
    """The commenter's person identity (the email, else the website) and the other one.
    An email that is not an address is left out."""
    mail, web = email_identity(email), web_identity(url)
    if mail is not None:
        return mail, (web,) if web is not None else ()
    return web, ()


def site_of(url: str) -> IdentityKey | None:
    """The linking site of a pingback: its root URL as a `web` identity."""
    try:
        parts = urlsplit(url if "://" in url else f"https://{url}")
    except ValueError:
        return None
    if not parts.netloc or not parts.hostname:
        return None
    return web_identity(f"{parts.scheme or 'https'}://{parts.netloc}")


def site_key(url: str | None) -> str | None:
    u = (url or "").strip()
    if not u:
        return None
    try:
        return normalize_url(u)
    except IdentityError:
        return u
