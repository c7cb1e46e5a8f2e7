"""10,000 generated WordPress exports through the `wxr` parser (`WxrSource.read` on a real
temporary file, no database): comments with arbitrary field values, dates, approval statuses,
types, parents and user ids, some files then cut short or with bytes spliced in. Every input
gives only the importer's items, or the documented clean error (`InputFileError`: malformed
XML, an undecodable byte, a file of another format) — never another exception."""

from __future__ import annotations

import gzip
import random
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from karmabank.errors import InputFileError
from karmabank.sources.base import (
    BadRow,
    InputFile,
    OrgContentRow,
    OrgIdentityRow,
    ParsedRow,
    SkippedRow,
)
from karmabank.sources.wxr import WxrSource

ITEMS = (ParsedRow, BadRow, SkippedRow, OrgIdentityRow, OrgContentRow)
FUZZ = settings(
    max_examples=10_000, deadline=None, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)  # fmt: skip

ALPHABET = list("aZ09 @.:/-_#&;<>]]'\"\t\n") + [
    "é",
    "ツ",
    "\u202e",
    "\x01",
    "\x00",
    "\udce9",
    "]]>",
    "&amp;",
    "&#8217;",
    "&bogus;",
]
IDS = ["", "0", "1", "2", "7", "x", "-1", "99999999999999999999"]
DATES = [
    "",
    "0000-00-00 00:00:00",
    "2024-02-30 10:00:00",
    "1850-01-01 00:00:00",
    "2024-03-02 19:15:00",
    "2199-12-31 23:59:59",
    "9999-12-31 23:59:59",
    "2024-03-02",
]
EMAILS = ["", "ada@example.net", "ADA@EXAMPLE.NET", "x@y", "@", "a@riverside.example"]
URLS = [
    "",
    "http://",
    "https://ada.example.net/",
    "http://[::1",
    "ftp://x",
    "http://h:99999/",
    "citynotes.example.com/walks",
]
APPROVAL = ["1", "1", "1", "0", "spam", "trash", "post-trashed", "", "2", "approved"]
KINDS = [
    "",
    "",
    "comment",
    "pingback",
    "trackback",
    "webmention",
    "order_note",
    "review",
    "PINGBACK",
]


class _Draw:
    """Values drawn with a seeded `random.Random` (Hypothesis draws the seed): generating a
    document costs microseconds, so 10,000 of them stay within the test's time budget."""

    def __init__(self, rnd: random.Random) -> None:
        self.rnd = rnd

    def text(self) -> str:
        return "".join(self.rnd.choice(ALPHABET) for _ in range(self.rnd.randrange(12)))

    def pick(self, values: list[str]) -> str:
        return self.rnd.choice(values) if self.rnd.random() < 0.85 else self.text()

    def wrap(self, value: str) -> str:
        if self.rnd.random() < 0.5:
            return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"
        return escape(value)

    def comment(self) -> str:
        fields = {
            "comment_id": self.pick(IDS), "comment_author": self.text(),
            "comment_author_email": self.pick(EMAILS), "comment_author_url": self.pick(URLS),
            "comment_date": self.pick(DATES), "comment_date_gmt": self.pick(DATES),
            "comment_content": self.text(), "comment_approved": self.pick(APPROVAL),
            "comment_type": self.pick(KINDS), "comment_parent": self.pick(IDS),
            "comment_user_id": self.pick(IDS),
        }  # fmt: skip
        left_out = set(self.rnd.sample(sorted(fields), self.rnd.randrange(3)))
        body = "".join(
            f"<wp:{k}>{self.wrap(v)}</wp:{k}>\n" for k, v in fields.items() if k not in left_out
        )
        return f"<wp:comment>\n{body}</wp:comment>\n"


@st.composite
def export(draw: st.DrawFn) -> bytes:
    d = _Draw(draw(st.randoms(use_true_random=True)))
    rnd = d.rnd
    version = rnd.choice(["1.0", "1.1", "1.2", "9.9"])
    authors = "".join(
        f"<wp:author><wp:author_id>{escape(d.pick(IDS))}</wp:author_id><wp:author_email>"
        f"{escape(d.pick(EMAILS))}</wp:author_email></wp:author>\n"
        for _ in range(rnd.randrange(3))
    )
    items = []
    for _ in range(rnd.randrange(4)):
        comments = "".join(d.comment() for _ in range(rnd.randrange(5)))
        items.append(
            f"<item><title>{escape(d.text())}</title><link>{escape(d.pick(URLS))}</link>"
            f"<wp:post_id>{escape(d.pick(IDS))}</wp:post_id>"
            f"<wp:post_date_gmt>{escape(d.pick(DATES))}</wp:post_date_gmt>"
            f"<wp:status>{rnd.choice(['publish', 'draft', ''])}</wp:status>"
            f"<wp:post_type>{rnd.choice(['post', 'page', 'attachment'])}</wp:post_type>\n"
            f"{comments}</item>\n"
        )
    site = rnd.choice(["<link>https://site.example</link>", "", "<link></link>"])
    doc = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
        f'xmlns:wp="http://wordpress.org/export/{version}/">\n<channel>\n{site}\n'
        f"{authors}{''.join(items)}</channel>\n</rss>\n"
    ).encode("utf-8", "surrogatepass")
    damage = rnd.choice(["none"] * 6 + ["cut", "splice", "gzip", "gzip-cut"])
    if damage in ("cut", "gzip-cut"):
        doc = doc[: rnd.randrange(len(doc))]
    elif damage == "splice":
        at = rnd.randrange(len(doc) + 1)
        doc = doc[:at] + rnd.randbytes(rnd.randrange(1, 8)) + doc[at:]
    if damage.startswith("gzip"):
        doc = gzip.compress(doc)
        if damage == "gzip-cut":
            doc = doc[: max(1, len(doc) - rnd.randrange(1, 30))]
    return doc


@pytest.mark.slow  # about 20-25 s of CPU for the 10,000
@FUZZ
@given(doc=export())
def test_no_generated_export_crashes_the_parser(tmp_path_factory: object, doc: bytes) -> None:
    path = _scratch(tmp_path_factory) / "fuzz.xml"
    path.write_bytes(doc)
    try:
        with InputFile(path) as f:
            items = list(WxrSource({}).read(f))
    except InputFileError as e:
        assert str(e).startswith(str(path)), e
        return
    for item in items:
        assert isinstance(item, ITEMS), item
        if isinstance(item, ParsedRow):
            assert item.source_key.startswith("wxr:") and item.channel == "blog"
            assert item.direction in ("in", "give", "peer")
            assert (item.target is not None) == (item.direction == "peer")


_DIRS: dict[int, Path] = {}


def _scratch(factory: object) -> Path:
    key = id(factory)
    if key not in _DIRS:
        _DIRS[key] = factory.mktemp("wxr-fuzz")  # type: ignore[attr-defined]
    return _DIRS[key]
