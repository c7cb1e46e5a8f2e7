"""Throughput of the `mastodon-archive` (and `activitystreams`) parse against `json.load`.

Generates a Mastodon outbox (`--activities` activities in the layout Mastodon writes, indented:
own posts public and unlisted, replies to others and to itself, mentions, boosts, direct
messages), then times
1. `json.load` of the file (the plain parse: the whole document in memory), and
2. `MastodonArchiveSource.read` over the same file (the well-formedness pass, then the
   streaming ijson pass that yields the rows), consuming every item, and
3. `ActivityStreamsSource.read` (any collection layout: an event loop in Python),
and prints items, MB per CPU second and the ratios (target <= 2x), best of `--repeat`. No
database work: that is the import's (bench/import_bench.py).

    .venv/bin/python bench/source_mastodon_bench.py [--activities 100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from pathlib import Path

from cpu_timing import best_of_each  # bench/cpu_timing.py
from karmabank.model import IdentityKey
from karmabank.sources.activitystreams import ActivityStreamsSource
from karmabank.sources.base import InputFile
from karmabank.sources.mastodon_archive import MastodonArchiveSource

ORG = "https://riverside.example/users/commons"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
FOLLOWERS = f"{ORG}/followers"
WORDS = "clean water volunteers the riverbank footbridge repair Saturday 河岸 清理".split()


def _activity(rng: random.Random, n: int) -> dict[str, object]:
    status = f"{ORG}/statuses/{100000000 + n}"
    at = f"2024-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}T10:{n % 60:02d}:00Z"
    other = f"https://host{rng.randrange(50)}.example/users/user{rng.randrange(5000)}"
    roll = rng.random()
    if roll < 0.05:
        return {"id": f"{status}/activity", "type": "Announce", "actor": ORG, "published": at,
                "to": [PUBLIC], "cc": [other, FOLLOWERS],
                "object": f"{other}/statuses/{rng.randrange(10**17)}"}  # fmt: skip
    to, cc = ([PUBLIC], [FOLLOWERS]) if rng.random() < 0.3 else ([FOLLOWERS], [PUBLIC])
    if roll < 0.07:
        to, cc = [other], []
    reply = None
    if roll < 0.15:
        reply = f"{other}/statuses/{rng.randrange(10**17)}"
    elif roll < 0.3:
        reply = f"{ORG}/statuses/{100000000 + rng.randrange(max(n, 1))}"
    tags = []
    if reply and reply.startswith(other) or rng.random() < 0.05:
        tags.append({"type": "Mention", "href": other, "name": "@user@host.example"})
    text = " ".join(rng.choice(WORDS) for _ in range(rng.randrange(5, 40)))
    note = {
        "id": status, "type": "Note", "summary": None, "inReplyTo": reply, "published": at,
        "url": f"https://riverside.example/@commons/{100000000 + n}", "attributedTo": ORG,
        "to": to, "cc": cc, "sensitive": False, "atomUri": status, "inReplyToAtomUri": reply,
        "conversation": f"tag:riverside.example,2024:objectId={n}:objectType=Conversation",
        "content": f"<p>{text}</p>", "contentMap": {"en": f"<p>{text}</p>"},
        "attachment": [], "tag": tags,
        "replies": {"id": f"{status}/replies", "type": "Collection", "first": {
            "type": "CollectionPage", "next": f"{status}/replies?page=true",
            "partOf": f"{status}/replies", "items": []}},
    }  # fmt: skip
    return {"@context": ["https://www.w3.org/ns/activitystreams"], "id": f"{status}/activity",
            "type": "Create", "actor": ORG, "published": at, "to": to, "cc": cc,
            "object": note}  # fmt: skip


def generate(path: Path, activities: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as f:
        f.write('{\n  "@context": "https://www.w3.org/ns/activitystreams",\n  "id": "outbox.json",')
        f.write(f'\n  "type": "OrderedCollection",\n  "totalItems": {activities},\n')
        f.write('  "orderedItems": [\n')
        for n in range(activities):
            text = json.dumps(_activity(rng, n), indent=2, ensure_ascii=False)
            f.write(("    " if n == 0 else ",\n    ") + text.replace("\n", "\n    "))
        f.write("\n  ]\n}\n")


def plain(path: Path) -> int:
    with path.open("rb") as f:
        return len(json.load(f)["orderedItems"])


def mastodon(path: Path) -> int:
    with InputFile(path) as f:
        return sum(1 for _ in MastodonArchiveSource({}).read(f))


def activitystreams(path: Path) -> int:
    source = ActivityStreamsSource({})
    source.use_organization(frozenset({IdentityKey("mastodon", "@commons@riverside.example")}))
    with InputFile(path) as f:
        return sum(1 for _ in source.read(f))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--activities", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "outbox.json"
        generate(path, args.activities)
        mb = path.stat().st_size / 1e6
        runs = best_of_each({"plain": plain, "mastodon": mastodon, "as": activitystreams},
                            path, args.repeat)  # fmt: skip
        (t_plain, n), (t_m, items), (t_as, as_items) = runs.values()
    print(f"file: {mb:.1f} MB, {n:,} activities")
    print(f"json.load:                  {t_plain:.2f} s ({mb / t_plain:.1f} MB/s)")
    print(f"karmabank mastodon-archive: {t_m:.2f} s ({mb / t_m:.1f} MB/s), {items:,} items")
    print(f"karmabank activitystreams:  {t_as:.2f} s ({mb / t_as:.1f} MB/s), {as_items:,} items")
    print(f"ratio mastodon-archive: {t_m / t_plain:.2f}x, activitystreams: "
          f"{t_as / t_plain:.2f}x (target <= 2x)")  # fmt: skip
    sys.stdout.flush()


if __name__ == "__main__":
    main()
