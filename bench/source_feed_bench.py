"""Throughput of the `feed` importer's parse against a plain standard-library parse.

Generates an RSS 2.0 feed of `--items` posts (with content:encoded HTML, links, authors), then
times 1. `xml.etree.ElementTree.iterparse` over the file, clearing each `<item>` (the plain
parse), and 2. `FeedSource.read` over the same file (feedparser, then the rows), consuming
every row, and prints items, MB/s and the ratio (target <= 2x). No database work.

    .venv/bin/python bench/source_feed_bench.py [--items 5000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

from cpu_timing import best  # bench/cpu_timing.py
from karmabank.model import IdentityKey
from karmabank.sources.base import InputFile, ParsedRow
from karmabank.sources.feed import FeedSource

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
	xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wfw="http://wellformedweb.org/CommentAPI/">
<channel>
	<title>Ada by the river</title>
	<link>https://ada.example.net/</link>
	<description>Notes from the east bank</description>
"""
ITEM = """	<item>
		<title>Post {n}: {topic}</title>
		<link>https://ada.example.net/{n}/</link>
		<dc:creator><![CDATA[Ada Okafor]]></dc:creator>
		<pubDate>Sun, {d:02d} Mar 2024 08:00:00 +0000</pubDate>
		<guid isPermaLink="false">https://ada.example.net/?p={n}</guid>
		<description><![CDATA[{topic}...]]></description>
		<content:encoded><![CDATA[<p>{topic}. {words}</p><p>{link}</p>]]></content:encoded>
		<wfw:commentRss>https://ada.example.net/{n}/feed/</wfw:commentRss>
	</item>
"""
TOPICS = ["clean water", "the footbridge", "sourdough", "volunteers", "the riverbank"]
LINK = '<a href="https://riverside.example.org/events/">Riverside Commons</a>'


def generate(path: Path, items: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as f:
        f.write(HEAD)
        for n in range(1, items + 1):
            topic = rng.choice(TOPICS)
            f.write(ITEM.format(
                n=n, topic=topic, d=rng.randrange(1, 29), words=" ".join(TOPICS) * 3,
                link=LINK if rng.random() < 0.3 else "",
            ))  # fmt: skip
        f.write("</channel>\n</rss>\n")


def plain(path: Path) -> int:
    n = 0
    for _event, elem in ET.iterparse(path):
        if elem.tag == "item":
            n += 1
            elem.clear()
    return n


def karmabank(path: Path) -> int:
    source = FeedSource({})
    source.use_organization(frozenset({IdentityKey("web", "https://riverside.example.org")}))
    with InputFile(path) as f:
        return sum(type(item) is ParsedRow for item in source.read(f))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--items", type=int, default=5_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "feed.xml"
        generate(path, args.items)
        mb = path.stat().st_size / 1e6
        t_plain, items = best(plain, path, args.repeat)
        t_kb, rows = best(karmabank, path, args.repeat)
    print(f"file: {mb:.1f} MB, {items:,} items")
    print(f"ElementTree.iterparse: {t_plain:.2f} s CPU ({mb / t_plain:.1f} MB/s)")
    print(f"karmabank feed read:   {t_kb:.2f} s CPU ({mb / t_kb:.1f} MB/s), {rows:,} rows")
    print(f"ratio: {t_kb / t_plain:.2f}x (target <= 2x)")


if __name__ == "__main__":
    main()
