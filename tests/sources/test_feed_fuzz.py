"""10,000 generated feeds through the `feed` parser (`FeedSource.read` on a real temporary file,
no database): RSS 2.0, RSS 1.0 and Atom with arbitrary titles, links, authors, dates and HTML,
some comment feeds, some files cut short or with bytes spliced in. Every input gives only the
importer's items, or the documented clean error (`InputFileError`: not a feed, an undecodable
byte, a file of another format) — never another exception."""

from __future__ import annotations

import gzip
import random
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from karmabank.errors import InputFileError
from karmabank.model import IdentityKey
from karmabank.sources.base import BadRow, InputFile, OrgContentRow, ParsedRow
from karmabank.sources.feed import FeedSource

FUZZ = settings(
    max_examples=10_000, deadline=None, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)  # fmt: skip
ALPHABET = list("aZ09 @.:/-_#&;<>'\"\t\n") + ["é", "ツ", "\u202e", "\x01", "]]>", "&amp;",
                                               "&#8217;", "&bogus;", "<b>", "href='"]  # fmt: skip
DATES = ["", "Sat, 02 Mar 2024 19:15:00 +0000", "2024-03-02T19:15:00Z", "Mon, 31 Feb 2024",
         "1850-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "yesterday", "0"]  # fmt: skip
LINKS = [
    "",
    "https://ada.example.net/p/1",
    "https://riverside.example.org/x#comment-3",
    "http://[::1",
    "javascript:alert(1)",
    "/relative",
    "http://RIVERSIDE.example.org/?utm_x=1",
]
AUTHORS = ["", "ada@example.net (Ada)", "Ada", "x@y", "@riverside@social.example"]
MENTIONS = ["", '<a href="https://riverside.example.org/a">x</a>', "@riverside@social.example"]
ORG = frozenset({IdentityKey("web", "https://riverside.example.org"),
                 IdentityKey("mastodon", "@riverside@social.example")})  # fmt: skip


class _Draw:
    def __init__(self, rnd: random.Random) -> None:
        self.rnd = rnd

    def text(self) -> str:
        return "".join(self.rnd.choice(ALPHABET) for _ in range(self.rnd.randrange(12)))

    def pick(self, values: list[str]) -> str:
        return escape(self.rnd.choice(values) if self.rnd.random() < 0.85 else self.text())


def _rss(d: _Draw) -> str:
    items = "".join(
        f"<item><title>{d.pick(['By: Ben', 'Post', ''])}</title><link>{d.pick(LINKS)}</link>"
        f"<author>{d.pick(AUTHORS)}</author><pubDate>{d.pick(DATES)}</pubDate>"
        f"<guid>{escape(d.text())}</guid><description>{escape(d.text())}"
        f"{escape(d.rnd.choice(MENTIONS))}"
        f"</description></item>\n"
        for _ in range(d.rnd.randrange(5))
    )
    title = d.pick(["Ada's blog", "Comments on: Clean-up", ""])
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>\n'
        f"<title>{title}</title><link>{d.pick(LINKS)}</link>\n{items}</channel></rss>\n"
    )


def _atom(d: _Draw) -> str:
    entries = "".join(
        f'<entry><title>{escape(d.text())}</title><link href="{d.pick(LINKS)}"/>'
        f"<id>{escape(d.text())}</id><author><name>{escape(d.text())}</name>"
        f"<email>{d.pick(AUTHORS)}</email></author><updated>{d.pick(DATES)}</updated>"
        f'<content type="html">{escape(d.text())}</content></entry>\n'
        for _ in range(d.rnd.randrange(5))
    )
    return (
        f'<feed xmlns="http://www.w3.org/2005/Atom"><title>{escape(d.text())}</title>\n'
        f"{entries}</feed>\n"
    )


@st.composite
def feed(draw: st.DrawFn) -> bytes:
    d = _Draw(draw(st.randoms(use_true_random=True)))
    rnd = d.rnd
    doc = (_rss(d) if rnd.random() < 0.6 else _atom(d)).encode("utf-8", "surrogatepass")
    damage = rnd.choice(["none"] * 6 + ["cut", "splice", "gzip", "junk"])
    if damage == "cut":
        doc = doc[: rnd.randrange(len(doc))]
    elif damage == "splice":
        at = rnd.randrange(len(doc) + 1)
        doc = doc[:at] + rnd.randbytes(rnd.randrange(1, 8)) + doc[at:]
    elif damage == "gzip":
        doc = gzip.compress(doc)
    elif damage == "junk":
        doc = rnd.randbytes(rnd.randrange(40))
    return doc


@pytest.mark.slow  # feedparser: about 30 s of CPU for the 10,000
@FUZZ
@given(doc=feed(), comments=st.booleans())
def test_no_generated_feed_crashes_the_parser(tmp_path: Path, doc: bytes, comments: bool) -> None:
    path = tmp_path / "fuzz.xml"
    path.write_bytes(doc)
    source = FeedSource({"comments": "yes"} if comments else {})
    source.use_organization(ORG)
    try:
        with InputFile(path) as f:
            items = list(source.read(f))
    except InputFileError as e:
        assert str(e).startswith(str(path)), e
        return
    for item in items:
        assert isinstance(item, ParsedRow | BadRow | OrgContentRow), item
        if isinstance(item, ParsedRow):
            assert item.source_key.startswith("feed:") and item.target is None
            assert item.direction in ("in", "peer")
