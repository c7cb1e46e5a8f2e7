"""RSS and Atom feeds (RSS 0.9x-2.0, RSS 1.0, Atom; a saved feed file, plain or gzip), read
with feedparser: a supporter's blog posts, and comment feeds.

- **Whose feed**: `--person ID` (an identity: `ada@example.net`, `web:https://ada.example.net`)
  says whose posts these are. Without it, each entry's author email, else the feed's author
  email, else the feed's own `link` (the blog's URL, a `web` identity) is the person; the blog's
  URL is also given as their website (`also`) when the feed is one person's.
- **A post** is that person's content, verb `Create` (stored as `comment`): direction `in` when
  it links to or mentions the organization (a link to one of its `web` identities — same host,
  path under it — or its email, `@user@host`, handle or DID in the text), otherwise `peer` with
  no target: their own content, toward no one. Affinity and share suggestions read the texts of
  `in` and `peer` activities; warmth, rhythm and the ledger read only `in`; the diffusion graph
  reads only `peer` activities with a target — so a post that does not mention the
  organization informs what they care about without counting as engagement.
- **A feed by the organization** (its author or its link is an organization identity): each
  entry is the organization's own content.
- **A comment feed** (a post's or a site's comments, the feed a `wfw:commentRss` link points
  to; recognized by entry links with `#comment-`, a title starting "Comments on" or "Comments
  for", or `--comments`): each entry is an inbound `comment` from its author: their email, else
  their URL, else their name on that site (`other:HOST/NAME`); the object is the post's URL.
- **Keys**: `feed:` + the entry's id (`guid`/`id`), else its link, else a digest of its title,
  time and text: a feed saved again later imports only the new entries. A WordPress comment
  (its id `SITE/?p=POST#comment-ID`) gets the key the site's WordPress export gives it
  (`wxr:SITE:ID`), so the export and the comment feed of one site import each comment once.
- **Quarantined**: an entry without a date feedparser can read. **Refused**: a file feedparser
  finds no feed in (naming the format it looks like), a file over 64 MB (feedparser reads a file
  whole; feeds are small, an archive of years is still a few MB).
- **Lines**: the line each entry's `<item>`/`<entry>` starts on, found in the text.
"""

from __future__ import annotations

import calendar
import io
import re
import time
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar
from urllib.parse import urlsplit

import feedparser  # type: ignore[import-untyped]

from karmabank.bounds import LATEST_US, check_micros
from karmabank.errors import ConfigError, IdentityError, InputFileError
from karmabank.identities import normalize_identity, normalize_url, parse_identity
from karmabank.model import IdentityKey, check_channel
from karmabank.sources.base import (
    BadRow,
    InputFile,
    OrgContentRow,
    ParsedRow,
    SourceItem,
    check_options,
    digest,
)
from karmabank.sources.blog_fields import plain_text
from karmabank.sources.input_file import undecodable_byte
from karmabank.sources.sniff import sniff_path, wrong_format

MAX_FEED_CHARS = 64 * 1024 * 1024
_ENTRY = re.compile(r"<(?:[A-Za-z_][\w.-]*:)?(?:item|entry)[\s/>]")
_HREF = re.compile(r"""href\s*=\s*["']([^"']+)["']""", re.IGNORECASE)
_WP_COMMENT = re.compile(r"^(https?://[^?#\s]+?)/?\?p=\d+#comment-(\d+)$")
_UNDECODABLE = re.compile("[\ud800-\udfff]")
_COMMENT_TITLE = re.compile(r"^\s*comments (?:on|for)\b", re.IGNORECASE)


def _get(d: Any, key: str) -> Any:
    """`d[key]` or None: `dict.get`, past feedparser's own lookups (which warn about aliases)."""
    return dict.get(d, key) if isinstance(d, dict) else None


def _host(url: object) -> str | None:
    try:
        return urlsplit(url).hostname if isinstance(url, str) else None
    except ValueError:
        return None


def _when(entry: Any) -> int | None:
    """The entry's time (published, else updated, else created) in UTC microseconds, None when
    it has none; ValueError when it is outside `karmabank.bounds`."""
    for field in ("published_parsed", "updated_parsed", "created_parsed"):
        parsed = _get(entry, field)
        if isinstance(parsed, time.struct_time):
            shown = str(_get(entry, field.removesuffix("_parsed")) or "")
            try:
                us = calendar.timegm(parsed) * 1_000_000
            except (OverflowError, ValueError):
                us = LATEST_US
            return check_micros(us, shown)
    return None


def _email(detail: Any) -> IdentityKey | None:
    email = _get(detail, "email") if isinstance(detail, dict) else None
    if not email:
        return None
    try:
        return normalize_identity("email", str(email))
    except IdentityError:
        return None


def _web(url: object) -> IdentityKey | None:
    if not isinstance(url, str) or not url.strip().lower().startswith(("http://", "https://")):
        return None
    try:
        return normalize_identity("web", url)
    except IdentityError:
        return None


class FeedSource:
    name: ClassVar[str] = "feed"
    description: ClassVar[str] = (
        "RSS and Atom feeds (feedparser): a supporter's blog posts, comment feeds"
    )
    option_names: ClassVar[frozenset[str]] = frozenset({"person", "channel", "comments"})

    def __init__(self, options: Mapping[str, str]) -> None:
        check_options(self.name, options, self.option_names)
        self.person: IdentityKey | None = None
        if options.get("person"):
            try:
                self.person = parse_identity(options["person"])
            except IdentityError as e:
                raise ConfigError(f"--person: {e}") from None
        try:
            self.channel = check_channel(options.get("channel", "blog"))
        except ValueError as e:
            raise ConfigError(f"--channel: {e}") from None
        comments = options.get("comments", "").strip().lower()
        if comments not in ("", "true", "yes", "1", "false", "no", "0"):
            raise ConfigError(f"--comments: expected yes or no, got {comments!r}")
        self.comments = comments in ("true", "yes", "1")
        self.org: frozenset[IdentityKey] = frozenset()

    def organization_identities(self) -> list[IdentityKey]:
        return []

    def use_organization(self, identities: frozenset[IdentityKey]) -> None:
        self.org = self.org | identities

    def read(self, file: InputFile) -> Iterator[SourceItem]:
        sniffed = sniff_path(file.path)
        if sniffed is not None and sniffed.format != self.name:
            raise wrong_format(file, self.name, "not an RSS or Atom feed")
        text = _whole(file)
        parsed = feedparser.parse(
            io.BytesIO(text.encode("utf-8")),
            response_headers={"content-type": "application/xml; charset=utf-8"},
            sanitize_html=False,  # its HTML is made plain text (`blog_fields.plain_text`)
        )
        feed, entries = _get(parsed, "feed") or {}, _get(parsed, "entries") or []
        if not entries and not _get(feed, "title") and not _get(feed, "link"):
            problem = _get(parsed, "bozo_exception") or "no channel, items or entries"
            raise wrong_format(file, self.name, f"not an RSS or Atom feed ({str(problem)[:200]})")
        starts = _entry_lines(text)
        yield from _Feed(self, feed, entries).items(starts)


def _whole(file: InputFile) -> str:
    parts: list[str] = []
    size = 0
    for block in file.blocks():
        size += len(block)
        if size > MAX_FEED_CHARS:
            raise InputFileError(
                f"{file.display}: more than {MAX_FEED_CHARS:,} characters: feedparser reads a "
                "feed whole; split it, or import the blog's WordPress export (wxr)"
            )
        parts.append(block)
    text = "".join(parts)
    bad = _UNDECODABLE.search(text)
    if bad is not None:
        byte = undecodable_byte(bad.group())
        what = f"the byte 0x{byte:02X}" if byte is not None else "a lone surrogate"
        line = text.count("\n", 0, bad.start()) + 1
        hint = "import it with --encoding and the encoding it is written in"
        if file.encoding.startswith("utf-8"):
            hint = "if the file is Latin-1 or Windows-1252, import it with --encoding cp1252"
        raise InputFileError(
            f"{file.display}:{line}: holds {what}, which is not valid {file.encoding} ({hint}): "
            "nothing was imported"
        )
    return text


def _entry_lines(text: str) -> list[int]:
    lines, line, at = [], 1, 0
    for m in _ENTRY.finditer(text):
        line += text.count("\n", at, m.start())
        at = m.start()
        lines.append(line)
    return lines


class _Feed:
    """One parsed feed: whose it is, what kind, and its entries as items."""

    def __init__(self, source: FeedSource, feed: Any, entries: list[Any]) -> None:
        self.source, self.feed, self.entries = source, feed, entries
        self.channel, self.org = source.channel, source.org
        self.site = _web(_get(feed, "link"))
        self.host = _host(_get(feed, "link")) or "feed"
        self.owner = source.person or _email(_get(feed, "author_detail")) or self.site
        self.by_org = self.owner is not None and self.owner in self.org
        links = [str(_get(e, "link") or "") for e in entries]
        self.comment_feed = (
            source.comments
            or bool(_COMMENT_TITLE.match(str(_get(feed, "title") or "")))
            or (bool(links) and all("#comment-" in link for link in links))
        )
        self.org_web = [k.key for k in self.org if k.platform == "web"]
        self.org_words = [_word(k) for k in self.org if _word(k)]

    def items(self, starts: list[int]) -> Iterator[SourceItem]:
        for n, entry in enumerate(self.entries):
            line = starts[n] if n < len(starts) else 1
            yield self._entry(entry, line)

    def _entry(self, entry: Any, line: int) -> SourceItem:
        title = " ".join(str(_get(entry, "title") or "").split())
        link = str(_get(entry, "link") or "").strip()
        body = _body(entry)
        text = " — ".join(part for part in (title, plain_text(body) or "") if part) or None
        try:
            at = _when(entry)
        except ValueError as e:
            return BadRow(line, f"{title} {link}".strip()[:1000], str(e))
        key = "feed:" + (
            str(_get(entry, "id") or "").strip() or link or digest(title, str(at), text or "")
        )
        if at is None:
            raw = f"{title} {link}".strip()[:1000]
            return BadRow(line, raw, "an entry without a date (published or updated) to read")
        if self.comment_feed:  # the title is "By: NAME" or "Comment on POST by NAME"
            return self._comment(entry, line, key, at, link, plain_text(body))
        author = _email(_get(entry, "author_detail"))
        person = self.source.person or author or self.owner
        if self.by_org or (person is not None and person in self.org):
            return OrgContentRow(line, key, at, self.channel, link or key, title or None, text)
        if person is None:
            return BadRow(line, f"{title} {link}".strip()[:1000],
                          "whose post this is is not known: give --person ID")  # fmt: skip
        one_person = self.source.person is not None or author is None
        also = (self.site,) if one_person and self.site and self.site != person else ()
        name = _name(_get(entry, "author_detail")) or _name(_get(self.feed, "author_detail"))
        direction = "in" if self._mentions_org(body, text) else "peer"
        return ParsedRow(line, key, at, person, "create", direction, self.channel,
                         object=link or None, text=text, name=name, also=also)  # fmt: skip

    def _comment(
        self, entry: Any, line: int, key: str, at: int, link: str, text: str | None
    ) -> SourceItem:
        wordpress = _WP_COMMENT.match(str(_get(entry, "id") or "").strip())
        if wordpress is not None:  # the key the site's WordPress export (wxr) gives it
            try:
                key = f"wxr:{normalize_url(wordpress.group(1))}:{wordpress.group(2)}"
            except IdentityError:
                pass
        detail = _get(entry, "author_detail")
        name = _name(detail) or " ".join(str(_get(entry, "author") or "").split()) or None
        person = _email(detail) or _web(_get(detail, "href"))
        if person is None and name:
            person = IdentityKey("other", f"{self.host}/{name}"[:500])
        if person is None:
            return BadRow(line, f"{link}"[:1000], "a comment without its author")
        post = link.split("#", 1)[0] or None
        return ParsedRow(line, key, at, person, "comment", "in", self.channel, object=post,
                         text=text, name=name)  # fmt: skip

    def _mentions_org(self, body: str, text: str | None) -> bool:
        if self.org_web:
            for href in _HREF.findall(body):
                found = _web(href)
                if found is not None and any(_under(found.key, org) for org in self.org_web):
                    return True
        lowered = (text or "").lower()
        return any(word in lowered for word in self.org_words)


def _word(key: IdentityKey) -> str:
    """How a post names an organization identity in its text ("" for those it cannot)."""
    if key.platform in ("email", "mastodon", "bluesky"):
        return key.key.lower()
    if key.platform in ("x", "github"):
        return "@" + key.key.lower()
    return ""


def _under(url: str, org: str) -> bool:
    """Whether normalized `url` is the organization's page `org` or under it."""
    return url == org or url.startswith(org.rstrip("/") + "/") or url.startswith(org + "?")


def _body(entry: Any) -> str:
    content = _get(entry, "content")
    if isinstance(content, list) and content and isinstance(content[0], dict):
        return str(_get(content[0], "value") or "")
    return str(_get(entry, "summary") or "")


def _name(detail: Any) -> str | None:
    if isinstance(detail, dict) and _get(detail, "name"):
        return " ".join(str(detail["name"]).split())[:500] or None
    return None
