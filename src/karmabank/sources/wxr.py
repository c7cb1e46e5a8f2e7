"""WordPress exports (WXR 1.0, 1.1, 1.2; plain or gzip): a site's comments as activities.

- The site's **authors** (`wp:author`, also spelled `wp:wp_author`) are the organization: each
  author's email is yielded as an organization identity before any comment.
- Every **approved comment** (`wp:comment_approved` 1) is an inbound `comment` from the commenter
  on channel `blog` (`--channel` to change it): the person is the commenter's email, their
  website a second identity (`also`), their name the comment's author name; the object is the
  post's title and URL; the text is the comment with its HTML tags taken out.
- A comment **by one of the site's authors** (its `wp:comment_user_id` is an author's id, or its
  email an author's or another organization identity) is the organization's: a `reply` give to
  the parent comment's author, or the organization's own content when it answers no one (a
  top-level comment, or a parent that is not in the export).
- A **reply between commenters** is also a `peer` `reply` from the replier to the parent's
  author (a reply to one's own comment, same identity, is skipped as such).
- **Pingbacks and trackbacks** (and webmentions) are inbound `mention`s from the linking site:
  a `web` identity, the site's root URL; the text is the linking page's title and URL.
- **Skipped**, with the reason: pending (0), spam, trashed comments; comment types that are not
  a visitor's (e.g. WooCommerce's `order_note`); comments with neither an email nor a website.
- **Quarantined**: a comment without an id, a date, or an approval status it can be read by.
- **Times**: `wp:comment_date_gmt`. When it is missing or zero (`0000-00-00 00:00:00`), the
  local `wp:comment_date` is used, moved by the site's offset from UTC as the last comment
  before it that had both dates shows it (none yet: the local time is taken as UTC).
- **Posts and pages** that are published are the organization's own content.
- **Keys**: `wxr:` + the site's URL (`wp:base_blog_url`, else the channel's `link`) + the
  comment's id (`:reply-to:PARENT` for the peer edge; `post:ID` for a post), so a re-import,
  or an overlapping export of the same site, imports nothing twice.
- **Malformed XML** is refused whole, naming the file and line: the file is read once, with
  lxml (`karmabank.sources.xml_stream`), and stored in one transaction (`stored_whole`), so a
  file found broken at its end leaves nothing stored. Memory is bounded by the largest post
  with its comments, not by the file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import ClassVar

from karmabank.bounds import check_micros
from karmabank.errors import ConfigError
from karmabank.model import IdentityKey, check_channel, to_micros
from karmabank.sources.base import (
    BadRow,
    InputFile,
    OrgContentRow,
    OrgIdentityRow,
    ParsedRow,
    SkippedRow,
    SourceItem,
    check_options,
)
from karmabank.sources.blog_fields import (
    commenter,
    email_identity,
    one_line,
    plain_text,
    site_key,
    site_of,
    wp_time,
)
from karmabank.sources.xml_stream import Record, Wanted, XmlRoot, read_records, refused

WXR_NAMESPACE = re.compile(r"https?://wordpress\.org/export/\d+\.\d+/")
CONTENT = "{http://purl.org/rss/1.0/modules/content/}"
ITEM_FIELDS = ("post_id", "post_type", "status", "post_date_gmt", "post_date")
COMMENT_FIELDS = ("comment_id", "comment_author", "comment_author_email", "comment_author_url",
                  "comment_date", "comment_date_gmt", "comment_content", "comment_approved",
                  "comment_type", "comment_parent", "comment_user_id")  # fmt: skip
AUTHOR_FIELDS = ("author_id", "author_email")
SKIP_STATUS = {"0": "pending comment", "spam": "spam comment", "trash": "trashed comment",
               "post-trashed": "comment on a trashed post"}  # fmt: skip
COMMENT_TYPES = frozenset({"", "comment", "review"})
PING_TYPES = frozenset({"pingback", "trackback", "webmention"})
CONTENT_TYPES = frozenset({"post", "page"})
ZERO_DATE = "0000-00-00 00:00:00"


@dataclass(slots=True)
class _Comment:
    """A comment of the post being read, with what the rows about it need."""

    id: str
    line: int
    person: IdentityKey | None = None
    also: tuple[IdentityKey, ...] = ()
    by_org: bool = False
    stored: bool = False  # imported (approved, with an identity): a reply to it can name it


@dataclass(slots=True, frozen=True)
class _Post:
    id: str
    title: str
    url: str
    object: str | None  # what a comment on it is about: "Title (URL)"


def _post(post_id: str, title: str, url: str) -> _Post:
    about = f"{title} ({url})" if title and url else (title or url or None)
    return _Post(post_id, title, url, about)


class WxrSource:
    name: ClassVar[str] = "wxr"
    description: ClassVar[str] = (
        "WordPress exports (WXR 1.0-1.2, plain or .gz): comments, replies, pingbacks, posts"
    )
    option_names: ClassVar[frozenset[str]] = frozenset({"channel"})
    stored_whole: ClassVar[bool] = True  # a file is well-formed XML only at its end

    def __init__(self, options: Mapping[str, str]) -> None:
        check_options(self.name, options, self.option_names)
        try:
            self.channel = check_channel(options.get("channel", "blog"))
        except ValueError as e:
            raise ConfigError(f"--channel: {e}") from None
        self.org: set[IdentityKey] = set()

    def organization_identities(self) -> list[IdentityKey]:
        return []

    def use_organization(self, identities: frozenset[IdentityKey]) -> None:
        self.org |= identities

    def read(self, file: InputFile) -> Iterator[SourceItem]:
        return _Reader(self, file).items()


class _Reader:
    """One file's pass: the channel's site and authors, then its items one by one."""

    def __init__(self, source: WxrSource, file: InputFile) -> None:
        self.source, self.file, self.channel = source, file, source.channel
        self.wp = ""
        self.site: str | None = None
        self.link: str | None = None
        self.author_ids: set[str] = set()
        self.org = set(source.org)
        self.both = ("", "")  # the GMT and local times of the last comment with a GMT time

    def _wanted(self, root: XmlRoot) -> Wanted:
        """Check the root element (before any row) and name the fields in its WXR namespace."""
        ns = next((u for u in root.declared if WXR_NAMESPACE.fullmatch(u)), None)
        if root.name != "rss" or root.namespace:
            raise refused(self.file, 1, f"not a WordPress export (its root element is "
                          f"<{root.name}>, not <rss>)", "wxr")  # fmt: skip
        if ns is None:
            raise refused(self.file, 1, "not a WordPress export (an RSS file without the "
                          "WordPress export namespace wordpress.org/export/1.x/)",
                          "wxr")  # fmt: skip
        self.wp = wp = "{" + ns + "}"
        self.comment = wp + "comment"
        self.keys = tuple(wp + n for n in (
            "comment_id", "comment_approved", "comment_type", "comment_date_gmt", "comment_date",
            "comment_content", "comment_author_email", "comment_author_url", "comment_user_id",
            "comment_parent", "comment_author",
        ))  # fmt: skip
        self.authors = frozenset({wp + "author", wp + "wp_author"})
        self.blog_url = wp + "base_blog_url"
        texts = frozenset({"link", self.blog_url})
        wanted = {"title", "link", "guid", "pubDate", CONTENT + "encoded"}
        wanted |= {wp + n for n in ITEM_FIELDS + COMMENT_FIELDS + AUTHOR_FIELDS}
        return Wanted(texts | self.authors | {"item"}, texts, frozenset({self.comment}),
                      frozenset(wanted))  # fmt: skip

    def items(self) -> Iterator[SourceItem]:
        seen_item = False
        for record in read_records(self.file, "wxr", self._wanted):
            name = record.name
            if name == "item":
                seen_item = True
                yield from self._item(record)
            elif name in self.authors:
                yield from self._author(record)
            elif name == self.blog_url:
                self.site = site_key(record.fields.get(name))
            elif not seen_item:  # the channel's <link>, before any item
                self.link = site_key(record.fields.get(name))

    def _author(self, record: Record) -> Iterator[SourceItem]:
        wp, fields = self.wp, record.fields
        author_id = fields.get(wp + "author_id", "").strip()
        if author_id and author_id != "0":
            self.author_ids.add(author_id)
        key = email_identity(fields.get(wp + "author_email", "").strip())
        if key is not None:
            self.org.add(key)
            yield OrgIdentityRow(record.line, key)

    def _site(self) -> str:
        site = self.site or self.link
        if site is None:
            raise refused(self.file, 1, "the channel names no site (no <wp:base_blog_url> or "
                          "<link> before the first item), so its comments have no stable keys",
                          "wxr")  # fmt: skip
        return site

    def _item(self, item: Record) -> Iterator[SourceItem]:
        wp, fields = self.wp, item.fields
        site = self._site()
        post = _post(
            fields.get(wp + "post_id", ""),
            one_line(fields.get("title")),
            fields.get("link") or fields.get("guid") or "",
        )
        content = self._content(item, post, site)
        if content is not None:
            yield content
        comments = self._authors(item)
        for c in item.children:
            yield from self._comment(c, post, site, comments)

    def _authors(self, item: Record) -> dict[str, _Comment]:
        """Who wrote each approved visitor comment of the post (the organization, a person, or
        no one known), read before any row so a reply finds the comment it answers wherever
        that comment is in the file."""
        k_id, k_approved, k_type, _, _, _, k_email, k_url, k_user, _, _ = self.keys
        comments: dict[str, _Comment] = {}
        for record in item.children:
            get = record.fields.get
            cid = get(k_id, "")
            if not cid or cid in comments or get(k_approved, "") != "1":
                continue
            if get(k_type, "").lower() not in COMMENT_TYPES:
                continue
            email, user = get(k_email, ""), get(k_user, "")
            c = _Comment(cid, record.line)
            c.by_org = (user not in ("", "0") and user in self.author_ids) or (
                email_identity(email) in self.org
            )
            if not c.by_org:
                c.person, c.also = commenter(email, get(k_url, ""))
            c.stored = c.by_org or c.person is not None
            comments[cid] = c
        return comments

    def _content(self, item: Record, post: _Post, site: str) -> OrgContentRow | None:
        wp, fields = self.wp, item.fields
        kind = fields.get(wp + "post_type", "").strip()
        status = fields.get(wp + "status", "").strip()
        if kind not in CONTENT_TYPES or status != "publish" or not post.url or not post.id:
            return None
        try:
            at = self._time(fields.get(wp + "post_date_gmt"), fields.get(wp + "post_date"))
        except ValueError:
            try:
                when = fields.get("pubDate", "").strip()
                at = check_micros(to_micros(parsedate_to_datetime(when)), when)
            except (TypeError, ValueError, IndexError, OverflowError):
                return None
        text = plain_text(fields.get(CONTENT + "encoded"))
        key = f"wxr:{site}:post:{post.id}"
        return OrgContentRow(item.line, key, at, self.channel, post.url, post.title or None, text)

    def _time(self, gmt: str | None, local: str | None) -> int:
        """A comment's or post's time (module docstring), or ValueError."""
        g = (gmt or "").strip()
        loc = (local or "").strip()
        if g and g != ZERO_DATE:
            self.both = (g, loc)
            return wp_time(g)
        if loc and loc != ZERO_DATE:
            last_gmt, last_local = self.both
            offset = 0
            if last_local and last_local != ZERO_DATE:
                try:
                    offset = wp_time(last_local) - wp_time(last_gmt)
                except ValueError:
                    offset = 0
            return wp_time(loc) - offset
        raise ValueError("no date (wp:comment_date_gmt and wp:comment_date are missing or zero)")

    def _comment(
        self, record: Record, post: _Post, site: str, comments: dict[str, _Comment]
    ) -> Iterator[SourceItem]:
        fields, line = record.fields, record.line
        get = fields.get
        k_id, k_approved, k_type, k_gmt, k_local, k_text, _, _, _, k_parent, k_author = self.keys
        cid = get(k_id, "")
        if not cid:
            yield BadRow(line, _raw(record), "a comment without a wp:comment_id")
            return
        approved = get(k_approved, "")
        if approved != "1":
            reason = SKIP_STATUS.get(approved)
            if reason is None:
                yield BadRow(line, _raw(record), f"comment {cid}: approval status "
                             f"{approved[:40]!r} is not 1, 0, spam or trash")  # fmt: skip
            else:
                yield SkippedRow(line, reason)
            return
        kind = get(k_type, "").lower()
        if kind not in COMMENT_TYPES and kind not in PING_TYPES:
            yield SkippedRow(line, f"comment type {kind[:40]!r} (not a visitor's comment)")
            return
        try:
            at = self._time(get(k_gmt), get(k_local))
        except ValueError as e:
            yield BadRow(line, _raw(record), f"comment {cid}: {e}")
            return
        text = plain_text(get(k_text))
        key = f"wxr:{site}:{cid}"
        if kind in PING_TYPES:
            yield self._ping(record, key, at, post, text, kind)
            return
        c = comments[cid]
        parent = comments.get(get(k_parent, ""))
        if c.by_org:
            yield self._org_comment(line, key, at, post, text, parent)
            return
        person, also = c.person, c.also
        if person is None:
            yield SkippedRow(line, "anonymous comment (no email or website)")
            return
        name = one_line(get(k_author)) or None
        yield ParsedRow(line, key, at, person, "comment", "in", self.channel, object=post.object,
                        text=text, name=name, also=also)  # fmt: skip
        if parent is None or not parent.stored or parent.by_org or parent.person is None:
            return
        if parent.person == person:
            yield SkippedRow(line, "reply to their own comment")
            return
        yield ParsedRow(line, f"{key}:reply-to:{parent.id}", at, person, "reply", "peer",
                        self.channel, post.object, text, target=parent.person)  # fmt: skip

    def _org_comment(
        self, line: int, key: str, at: int, post: _Post, text: str | None, parent: _Comment | None
    ) -> SourceItem:
        if parent is not None and parent.stored and not parent.by_org and parent.person:
            return ParsedRow(line, key, at, parent.person, "reply", "give", self.channel,
                             object=post.object, text=text)  # fmt: skip
        where = f"{post.url}#comment-{key.rsplit(':', 1)[-1]}" if post.url else key
        return OrgContentRow(line, key, at, self.channel, where, post.title or None, text)

    def _ping(
        self, record: Record, key: str, at: int, post: _Post, text: str | None, kind: str
    ) -> SourceItem:
        fields, line = record.fields, record.line
        url = fields.get(self.wp + "comment_author_url", "").strip()
        site = site_of(url)
        if site is None:
            return BadRow(line, _raw(record), f"a {kind} without the linking page's URL")
        title = one_line(fields.get(self.wp + "comment_author"))
        said = " — ".join(part for part in (f"{title} {url}".strip(), text or "") if part)
        return ParsedRow(line, key, at, site, "mention", "in", self.channel, object=post.object,
                         text=said)  # fmt: skip


def _raw(record: Record) -> str:
    """A comment as the quarantine shows it: the fields read, as `wp:` elements."""
    parts = []
    for name, value in record.fields.items():
        local = name.rpartition("}")[2]
        parts.append(f"<wp:{local}>{value.strip()[:500]}</wp:{local}>")
    return "".join(parts)
