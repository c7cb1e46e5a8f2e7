"""Parse and normalize identities: `platform:key` strings, bare emails, handles and URLs.

Pure functions, no I/O. The rules (PRODUCT.md §2):
- email: trimmed and lower-cased;
- mastodon: `@user@host`, lower-cased (Mastodon matches both parts case-insensitively);
  `user@host` and `https://host/@user` are accepted;
- bluesky: a DID (`did:plc:...`) is the key; a handle is lower-cased without its `@`;
- web: scheme `https`, host lower-cased without default port, no fragment, no trailing slash,
  no `utm_*` tracking parameters, the other query parameters sorted;
- x, github, linkedin: lower-cased, without a leading `@` (a profile URL gives its handle);
- phone: digits with an optional leading `+`;
- event, other: trimmed, case kept (node ids of edge lists live here).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from karmabank.errors import IdentityError
from karmabank.model import IdentityKey, Platform

PLATFORMS: frozenset[str] = frozenset(p.value for p in Platform)

_EMAIL = re.compile(r"^[^@\s:/]+@[^@\s:/]+\.[^@\s:/]+$")
_MASTODON = re.compile(r"^@?([A-Za-z0-9_.\-]+)@([A-Za-z0-9.\-]+\.[A-Za-z]{2,})$")
_MASTODON_URL = re.compile(r"^https?://([^/]+)/@([A-Za-z0-9_.\-]+)/?$")


def parse_identity(text: str, default_platform: str | None = None) -> IdentityKey:
    """Turn `platform:key`, a bare email, a Mastodon handle or a URL into a normalized key.

    >>> parse_identity("email:Ada@Example.org")
    IdentityKey(platform='email', key='ada@example.org')
    >>> parse_identity("@Ada@Example.Social")
    IdentityKey(platform='mastodon', key='@ada@example.social')
    """
    raw = text.strip()
    if not raw:
        raise IdentityError("empty identity")
    head, sep, rest = raw.partition(":")
    if sep and head.lower() in PLATFORMS and not rest.startswith("//"):
        return normalize_identity(head.lower(), rest)
    if raw.lower().startswith(("http://", "https://")):
        m = _MASTODON_URL.match(raw)
        if m:
            return normalize_identity("mastodon", f"@{m.group(2)}@{m.group(1)}")
        return normalize_identity("web", raw)
    if raw.startswith("@") and _MASTODON.match(raw):
        return normalize_identity("mastodon", raw)
    if _EMAIL.match(raw):
        return normalize_identity("email", raw)
    if default_platform is not None:
        return normalize_identity(default_platform, raw)
    raise IdentityError(
        f"cannot tell the platform of {raw!r}: write it as platform:key "
        f"(platforms: {', '.join(sorted(PLATFORMS))})"
    )


def normalize_identity(platform: str, key: str) -> IdentityKey:
    """Normalize a key for a known platform; raises IdentityError when it cannot be."""
    platform = platform.strip().lower()
    if platform not in PLATFORMS:
        raise IdentityError(f"unknown platform {platform!r}")
    k = key.strip()
    if not k:
        raise IdentityError(f"empty {platform} key")
    if not k.isascii():
        try:
            k.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: bytes that were not UTF-8
            raise IdentityError(f"{k!r} is not valid Unicode text") from None
    return IdentityKey(platform, _NORMALIZERS.get(platform, _keep)(k))


def _keep(k: str) -> str:
    return k


def _email(k: str) -> str:
    k = k.lower()
    if k.startswith("mailto:"):
        k = k[len("mailto:") :]
    if not _EMAIL.match(k):
        raise IdentityError(f"not an email address: {k!r}")
    return k


def _mastodon(k: str) -> str:
    m = _MASTODON_URL.match(k)
    if m:
        return f"@{m.group(2)}@{m.group(1)}".lower()
    m = _MASTODON.match(k)
    if not m:
        raise IdentityError(f"not a Mastodon handle @user@host: {k!r}")
    return f"@{m.group(1)}@{m.group(2)}".lower()


def _bluesky(k: str) -> str:
    if k.startswith("did:"):
        return k
    return k.lstrip("@").lower()


def _handle(k: str) -> str:
    if k.lower().startswith(("http://", "https://")):
        try:
            path = urlsplit(k).path.strip("/")
        except ValueError as e:
            raise IdentityError(f"not a URL: {k!r} ({e})") from None
        k = path.split("/")[-1] if path else k
    return k.lstrip("@").lower()


def _phone(k: str) -> str:
    digits = re.sub(r"\D", "", k)
    if len(digits) < 3:
        raise IdentityError(f"not a phone number: {k!r}")
    return ("+" if k.startswith("+") else "") + digits


def normalize_url(url: str) -> str:
    """A canonical form of a URL, so two spellings of one page are one key."""
    u = url.strip()
    if "://" not in u:
        u = "https://" + u
    try:  # urllib refuses a bad IPv6 host (`http://[::1`) or port (`:99999`) with ValueError
        parts = urlsplit(u)
        port = parts.port
    except ValueError as e:
        raise IdentityError(f"not a URL: {url!r} ({e})") from None
    if not parts.hostname:
        raise IdentityError(f"not a URL: {url!r}")
    scheme = "https" if parts.scheme.lower() in ("http", "https") else parts.scheme.lower()
    host = parts.hostname.lower()
    netloc = host if port in (None, 80, 443) else f"{host}:{port}"
    path = parts.path.rstrip("/")
    query = urlencode(
        sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
               if not k.lower().startswith("utm_"))
    )  # fmt: skip
    return urlunsplit((scheme, netloc, path, query, ""))


_NORMALIZERS = {
    "email": _email,
    "mastodon": _mastodon,
    "bluesky": _bluesky,
    "web": normalize_url,
    "x": _handle,
    "github": _handle,
    "linkedin": _handle,
    "phone": _phone,
}


# The identity a person without a name is shown by: the one a human reads best first.
_SHOWN_FIRST = ("mastodon", "email", "bluesky", "github", "x", "linkedin", "web", "phone",
                "event", "other")  # fmt: skip


def shown_identity(identity: str) -> str:
    """How one `platform:key` identity reads as a name: `@ada@host` and `ada@example.org` as
    they are, a Bluesky or other handle with its `@` and platform, an edge list's node as
    `node 1054` (`node 3998 (x)` for a number on a platform of handles), any other key as the
    identity itself."""
    platform, _, key = identity.partition(":")
    if platform in ("mastodon", "email", "web", "phone"):
        return key
    if platform == "bluesky":
        return key if key.startswith("did:") else f"@{key}"
    if platform in ("github", "x", "linkedin"):  # an edge list's node ids can live here too
        return f"node {key} ({platform})" if key.isdigit() else f"@{key} ({platform})"
    if platform == "other":
        return f"node {key}"
    return identity


def display_name(name: str | None, identities: Iterable[str], person_id: int) -> str:
    """What a person is called wherever they are shown (CLI and web): their name, else their
    best identity (`shown_identity`, mastodon and email first), else `person <id>`."""
    if name is not None and name.strip():
        return name
    ranked = sorted(identities, key=lambda i: _rank(i.partition(":")[0]))
    return shown_identity(ranked[0]) if ranked else f"person {person_id}"


def _rank(platform: str) -> int:
    return _SHOWN_FIRST.index(platform) if platform in _SHOWN_FIRST else len(_SHOWN_FIRST)
