"""Throughput of the `bluesky-repo` importer's parse against a plain decode of the same CAR.

Generates an AT Protocol repository CAR (`--records` records of an active account: posts with
replies, quotes and mentions, likes, reposts, follows, a profile; in a Merkle search tree of
`--fanout` keys a node, written with libipld), then times
1. `libipld.decode_car` of the file's bytes (the plain decode: every block, nothing walked), and
2. `BlueskyRepoSource.read` over the same file (the decode, the walk of the whole tree before
   any row, then the rows), consuming every row,
and prints rows, MB/s and the ratio (target <= 2x). The standard library has no CAR or CBOR
parser, so the plain parse is the library's own decode. No database work.

    .venv/bin/python bench/source_bluesky_bench.py [--records 200000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from pathlib import Path
from typing import Any

import libipld

from cpu_timing import best  # bench/cpu_timing.py
from karmabank.sources.base import InputFile, OrgContentRow, ParsedRow
from karmabank.sources.bluesky_repo import BlueskyRepoSource

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.sources.bluesky_car import OWNER, car_bytes  # noqa: E402

WORDS = "the river clean-up on saturday thanks everyone who came and brought gloves".split()


def generate(path: Path, n: int, fanout: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    records: list[tuple[str, Any]] = [("app.bsky.actor.profile/self", {
        "$type": "app.bsky.actor.profile", "displayName": "Riverside Commons"})]  # fmt: skip

    def other() -> str:
        return f"did:plc:{rng.randrange(20_000):024d}"

    def uri(did: str) -> str:
        return f"at://{did}/app.bsky.feed.post/3k{rng.randrange(10**11):011d}"

    ref = {"cid": "bafyreifwzs4ewtkrfnwj6jbrctftqknpsmbbfcgznotgj6pwnp322mn3r4"}
    for i in range(n):
        at = f"2025-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}T12:00:00.000Z"
        rkey = f"3l{i:011d}"
        kind = rng.random()
        if kind < 0.3:
            text = " ".join(rng.choices(WORDS, k=12))
            post: dict[str, Any] = {"$type": "app.bsky.feed.post", "createdAt": at,
                                    "text": text, "langs": ["en"]}  # fmt: skip
            if rng.random() < 0.4:
                parent = {**ref, "uri": uri(other())}
                post["reply"] = {"root": parent, "parent": parent}
            if rng.random() < 0.2:
                post["embed"] = {"$type": "app.bsky.embed.record",
                                 "record": {**ref, "uri": uri(other())}}  # fmt: skip
            if rng.random() < 0.3:
                post["facets"] = [{"index": {"byteStart": 0, "byteEnd": 5}, "features": [
                    {"$type": "app.bsky.richtext.facet#mention", "did": other()}]}]  # fmt: skip
            records.append((f"app.bsky.feed.post/{rkey}", post))
        elif kind < 0.75:
            records.append((f"app.bsky.feed.like/{rkey}", {"$type": "app.bsky.feed.like",
                            "createdAt": at, "subject": {**ref, "uri": uri(other())}}))  # fmt: skip
        elif kind < 0.9:
            records.append((f"app.bsky.feed.repost/{rkey}", {"$type": "app.bsky.feed.repost",
                            "createdAt": at, "subject": {**ref, "uri": uri(other())}}))  # fmt: skip
        else:
            records.append((f"app.bsky.graph.follow/{rkey}", {"$type": "app.bsky.graph.follow",
                            "createdAt": at, "subject": other()}))  # fmt: skip
    path.write_bytes(car_bytes(records, OWNER, fanout=fanout))


def plain(path: Path) -> int:
    _header, blocks = libipld.decode_car(path.read_bytes())
    return len(blocks)


def karmabank(path: Path) -> int:
    n = 0
    with InputFile(path) as f:
        for item in BlueskyRepoSource({}).read(f):
            n += type(item) in (ParsedRow, OrgContentRow)
    return n


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--records", type=int, default=200_000)
    ap.add_argument("--fanout", type=int, default=16)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "repo.car"
        generate(path, args.records, args.fanout)
        mb = path.stat().st_size / 1e6
        t_plain, blocks = best(plain, path, args.repeat)
        t_kb, rows = best(karmabank, path, args.repeat)
    print(f"file: {mb:.1f} MB, {args.records:,} records, {blocks:,} blocks")
    print(f"libipld.decode_car:     {t_plain:.2f} s CPU ({mb / t_plain:.1f} MB/s)")
    print(f"karmabank bluesky-repo: {t_kb:.2f} s CPU ({mb / t_kb:.1f} MB/s), {rows:,} rows")
    print(f"ratio: {t_kb / t_plain:.2f}x (target <= 2x)")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
