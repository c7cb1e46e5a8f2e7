"""Writing AT Protocol repository CARs for the `bluesky-repo` tests and fuzzing: records
encoded with libipld, a commit, and a two-level Merkle search tree (the importer's walk does
not depend on the tree's layering, only on its links and key order)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

import libipld

OWNER = "did:plc:orgorgorgorgorgorgorgorgo"


def cid_of(block: bytes) -> bytes:
    """The binary CID (v1, dag-cbor, sha2-256) of an encoded block."""
    return b"\x01\x71\x12\x20" + hashlib.sha256(block).digest()


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def car_bytes(
    records: Iterable[tuple[str, Any]],
    did: str = OWNER,
    *,
    fanout: int = 32,
    drop: frozenset[str] = frozenset(),
    commit: Any = None,
) -> bytes:
    """A repository CAR of `records` ((`collection/rkey`, record) in any order; a record of
    bytes is written as that raw block). `drop`: keys whose record block is left out.
    `commit`: a root block to write instead of the commit."""
    blocks: list[tuple[bytes, bytes]] = []

    def put(value: Any) -> bytes:
        data = value if isinstance(value, bytes) else libipld.encode_dag_cbor(value)
        cid = cid_of(data)
        blocks.append((cid, data))
        return cid

    values: list[tuple[str, bytes]] = []
    for key, record in sorted(records, key=lambda kv: kv[0]):
        data = record if isinstance(record, bytes) else libipld.encode_dag_cbor(record)
        cid = cid_of(data)
        if key not in drop:
            blocks.append((cid, data))
        values.append((key, cid))

    def node(entries: list[tuple[str, bytes]], left: bytes | None = None,
             rights: list[bytes | None] | None = None) -> bytes:  # fmt: skip
        out, previous = [], b""
        for i, (key, cid) in enumerate(entries):
            k = key.encode()
            p = 0
            while p < min(len(k), len(previous)) and k[p] == previous[p]:
                p += 1
            right = rights[i] if rights else None
            out.append({"k": k[p:], "p": p, "v": cid, "t": right})
            previous = k
        return put({"e": out, "l": left})

    if len(values) <= fanout:
        root = node(values)
    else:
        left = node(values[:fanout])
        seps: list[tuple[str, bytes]] = []
        rights: list[bytes | None] = []
        i = fanout
        while i < len(values):
            seps.append(values[i])
            leaf = values[i + 1 : i + 1 + fanout]
            rights.append(node(leaf) if leaf else None)
            i += 1 + fanout
        root = node(seps, left, rights)
    root_block = commit if commit is not None else {
        "did": did, "version": 3, "data": root, "rev": "3lh6cdwqxx42x", "prev": None,
        "sig": b"\x00" * 64,
    }  # fmt: skip
    root_cid = put(root_block)
    header = libipld.encode_dag_cbor({"version": 1, "roots": [root_cid]})
    out = bytearray(_varint(len(header)) + header)
    for cid, data in reversed(blocks):
        out += _varint(len(cid) + len(data)) + cid + data
    return bytes(out)


def _post_uri(did: str, rkey: str) -> str:
    return f"at://{did}/app.bsky.feed.post/{rkey}"


ADA = "did:plc:adaadaadaadaadaadaadaada"
BO = "did:plc:bobobobobobobobobobobobo"
CY = "did:plc:cycycycycycycycycycycycy"
WHEN = "2026-03-0{}T12:00:00.000Z"


def org_records() -> list[tuple[str, Any]]:
    """The records of the fixture repository (tests/sources/fixtures/bluesky-repo/org.car and
    docs/examples/org.bluesky.car): one of each kind the importer reads, and bad ones."""
    ref = {"cid": "bafyreifwzs4ewtkrfnwj6jbrctftqknpsmbbfcgznotgj6pwnp322mn3r4"}
    mention_bo = {"index": {"byteStart": 20, "byteEnd": 23},
                  "features": [{"$type": "app.bsky.richtext.facet#mention", "did": BO},
                               {"$type": "app.bsky.richtext.facet#mention", "did": ADA}]}  # fmt: skip
    post = "app.bsky.feed.post"
    return [
        (
            "app.bsky.actor.profile/self",
            {"$type": "app.bsky.actor.profile", "displayName": "Riverside Commons"},
        ),  # fmt: skip
        (
            f"{post}/3kaaaaaaaaa2a",
            {
                "$type": post,
                "createdAt": WHEN.format(1),
                "text": "Spring cleanup at the river on Saturday",
            },
        ),
        (
            f"{post}/3kaaaaaaaaa2b",
            {
                "$type": post,
                "createdAt": WHEN.format(2),
                "text": "Thank you Ada! And hi @bo",
                "reply": {
                    "root": {**ref, "uri": _post_uri(ADA, "3kadaaaaaaa2a")},
                    "parent": {**ref, "uri": _post_uri(ADA, "3kadaaaaaaa2a")},
                },
                "facets": [mention_bo],
            },
        ),  # fmt: skip
        (
            f"{post}/3kaaaaaaaaa2c",
            {
                "$type": post,
                "createdAt": WHEN.format(3),
                "text": "Cy's photos of the cleanup",
                "embed": {
                    "$type": "app.bsky.embed.recordWithMedia",
                    "record": {
                        "$type": "app.bsky.embed.record",
                        "record": {**ref, "uri": _post_uri(CY, "3kcyaaaaaaa2a")},
                    },
                    "media": {"$type": "app.bsky.embed.images", "images": []},
                },
            },
        ),  # fmt: skip
        (
            f"{post}/3kaaaaaaaaa2d",
            {
                "$type": post,
                "createdAt": WHEN.format(4),
                "text": "Details in the thread",
                "reply": {
                    "root": {**ref, "uri": _post_uri(OWNER, "3kaaaaaaaaa2a")},
                    "parent": {**ref, "uri": _post_uri(OWNER, "3kaaaaaaaaa2a")},
                },
            },
        ),  # fmt: skip
        (
            "app.bsky.feed.repost/3kaaaaaaaaa2e",
            {
                "$type": "app.bsky.feed.repost",
                "createdAt": WHEN.format(5),
                "subject": {**ref, "uri": _post_uri(ADA, "3kadaaaaaaa2b")},
            },
        ),
        (
            "app.bsky.feed.like/3kaaaaaaaaa2f",
            {
                "$type": "app.bsky.feed.like",
                "createdAt": WHEN.format(5),
                "subject": {**ref, "uri": _post_uri(OWNER, "3kaaaaaaaaa2a")},
            },
        ),
        (
            "app.bsky.feed.like/3kaaaaaaaaa2g",
            {
                "$type": "app.bsky.feed.like",
                "createdAt": WHEN.format(6),
                "subject": {**ref, "uri": _post_uri(BO, "3kboaaaaaaa2a")},
            },
        ),
        (
            "app.bsky.feed.like/3kaaaaaaaaa2h",
            {"$type": "app.bsky.feed.like", "subject": {**ref, "uri": _post_uri(BO, "3kb")}},
        ),
        (
            "app.bsky.feed.like/3kaaaaaaaaa2i",
            {
                "$type": "app.bsky.feed.like",
                "createdAt": WHEN.format(7),
                "subject": {**ref, "uri": _post_uri(CY, "3kcyaaaaaaa2b")},
            },
        ),
        (
            "app.bsky.graph.follow/3kaaaaaaaaa2j",
            {"$type": "app.bsky.graph.follow", "createdAt": WHEN.format(7), "subject": CY},
        ),
        (
            "app.bsky.graph.follow/3kaaaaaaaaa2k",
            {
                "$type": "app.bsky.graph.follow",
                "createdAt": WHEN.format(8),
                "subject": "@cy.example.com",
            },
        ),
        (
            "app.bsky.graph.block/3kaaaaaaaaa2l",
            {"$type": "app.bsky.graph.block", "createdAt": WHEN.format(8), "subject": BO},
        ),
    ]


DROPPED = frozenset({"app.bsky.feed.like/3kaaaaaaaaa2i"})  # its block left out of the file


def org_car() -> bytes:
    return car_bytes(org_records(), fanout=4, drop=DROPPED)
