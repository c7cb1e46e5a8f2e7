"""Throughput of the `wxr` importer's parse against a plain standard-library parse.

Generates a WordPress export (`--posts` posts with `--comments` comments each, threaded, with
pingbacks, pending and spam ones, in the layout WordPress writes), then times
1. `xml.etree.ElementTree.iterparse` over the file, clearing each `<item>` (the plain parse), and
2. `WxrSource.read` over the same file (one lxml pass that yields the rows; the import stores
   the file in one transaction, so a broken end leaves nothing), consuming every row,
and prints rows, MB/s and the ratio (target <= 2x). No database work: that is the import's
(bench/import_bench.py).

    .venv/bin/python bench/source_wxr_bench.py [--posts 20000] [--comments 10] [--repeat 3]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

from cpu_timing import best_of_each  # bench/cpu_timing.py
from karmabank.sources.base import InputFile, ParsedRow
from karmabank.sources.wxr import WxrSource

HEAD = """<?xml version="1.0" encoding="UTF-8" ?>
<rss version="2.0" xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/"
	xmlns:content="http://purl.org/rss/1.0/modules/content/"
	xmlns:wfw="http://wellformedweb.org/CommentAPI/"
	xmlns:dc="http://purl.org/dc/elements/1.1/"
	xmlns:wp="http://wordpress.org/export/1.2/">
<channel>
	<title>Riverside Commons</title>
	<link>https://riverside.example.org</link>
	<wp:wxr_version>1.2</wp:wxr_version>
	<wp:base_site_url>https://riverside.example.org</wp:base_site_url>
	<wp:base_blog_url>https://riverside.example.org</wp:base_blog_url>
	<wp:author><wp:author_id>1</wp:author_id><wp:author_login><![CDATA[ada]]></wp:author_login><wp:author_email><![CDATA[ada@riverside.example.org]]></wp:author_email><wp:author_display_name><![CDATA[Ada]]></wp:author_display_name></wp:author>
"""
POST = """	<item>
		<title><![CDATA[Post {p}: the river clean-up]]></title>
		<link>https://riverside.example.org/{p}/</link>
		<pubDate>Mon, 01 Jan 2024 10:00:00 +0000</pubDate>
		<dc:creator><![CDATA[ada]]></dc:creator>
		<guid isPermaLink="false">https://riverside.example.org/?p={p}</guid>
		<content:encoded><![CDATA[<p>We met. {words}</p>]]></content:encoded>
		<wp:post_id>{p}</wp:post_id>
		<wp:post_date><![CDATA[2024-01-01 11:00:00]]></wp:post_date>
		<wp:post_date_gmt><![CDATA[2024-01-01 10:00:00]]></wp:post_date_gmt>
		<wp:comment_status><![CDATA[open]]></wp:comment_status>
		<wp:post_name><![CDATA[post-{p}]]></wp:post_name>
		<wp:status><![CDATA[publish]]></wp:status>
		<wp:post_type><![CDATA[post]]></wp:post_type>
		<wp:postmeta><wp:meta_key><![CDATA[_edit_last]]></wp:meta_key><wp:meta_value><![CDATA[1]]></wp:meta_value></wp:postmeta>
{comments}	</item>
"""
COMMENT = """		<wp:comment>
			<wp:comment_id>{c}</wp:comment_id>
			<wp:comment_author><![CDATA[{name}]]></wp:comment_author>
			<wp:comment_author_email><![CDATA[{email}]]></wp:comment_author_email>
			<wp:comment_author_url>{url}</wp:comment_author_url>
			<wp:comment_author_IP><![CDATA[192.0.2.7]]></wp:comment_author_IP>
			<wp:comment_date><![CDATA[2024-01-0{d} 1{h}:12:00]]></wp:comment_date>
			<wp:comment_date_gmt><![CDATA[2024-01-0{d} 0{h}:12:00]]></wp:comment_date_gmt>
			<wp:comment_content><![CDATA[Thanks, {words}<br />Bye.]]></wp:comment_content>
			<wp:comment_approved><![CDATA[{approved}]]></wp:comment_approved>
			<wp:comment_type><![CDATA[{kind}]]></wp:comment_type>
			<wp:comment_parent>{parent}</wp:comment_parent>
			<wp:comment_user_id>{user}</wp:comment_user_id>
		</wp:comment>
"""
WORDS = "clean water, volunteers, the riverbank and the footbridge repair".split(", ")


def generate(path: Path, posts: int, comments: int, seed: int = 1) -> int:
    rng = random.Random(seed)
    c = 0
    with path.open("w", encoding="utf-8") as f:
        f.write(HEAD)
        for p in range(1, posts + 1):
            parts = []
            first = c + 1
            for _ in range(comments):
                c += 1
                n = rng.randrange(5000)
                kind = "pingback" if rng.random() < 0.05 else ""
                by_org = rng.random() < 0.1
                parts.append(COMMENT.format(
                    c=c, name=f"Supporter {n}", email=f"s{n}@example.net",
                    url=f"https://s{n}.example.net/" if kind else "",
                    d=rng.randrange(1, 9), h=rng.randrange(10), words=rng.choice(WORDS),
                    approved=rng.choice(["1"] * 8 + ["0", "spam"]), kind=kind,
                    parent=rng.randrange(first, c) if c > first and rng.random() < 0.3 else 0,
                    user=1 if by_org else 0,
                ))  # fmt: skip
            f.write(POST.format(p=p, words=" ".join(WORDS), comments="".join(parts)))
        f.write("</channel>\n</rss>\n")
    return c


def plain(path: Path) -> int:
    n = 0
    for _event, elem in ET.iterparse(path):
        if elem.tag == "item":
            n += 1
            elem.clear()
    return n


def karmabank(path: Path) -> int:
    n = 0
    with InputFile(path) as f:
        for item in WxrSource({}).read(f):
            n += type(item) is ParsedRow
    return n


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--posts", type=int, default=20_000)
    ap.add_argument("--comments", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "export.xml"
        n_comments = generate(path, args.posts, args.comments)
        mb = path.stat().st_size / 1e6
        runs = best_of_each({"plain": plain, "karmabank": karmabank}, path, args.repeat)
        (t_plain, items), (t_kb, rows) = runs.values()
    print(f"file: {mb:.1f} MB, {items:,} posts, {n_comments:,} comments")
    print(f"ElementTree.iterparse: {t_plain:.2f} s CPU ({mb / t_plain:.1f} MB/s)")
    print(f"karmabank wxr read:    {t_kb:.2f} s CPU ({mb / t_kb:.1f} MB/s), {rows:,} activity rows")
    print(f"ratio: {t_kb / t_plain:.2f}x (target <= 2x)")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
