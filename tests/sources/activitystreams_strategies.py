"""Generated ActivityStreams / Mastodon outbox files for fuzzing: plausible activities with
every field possibly missing, mistyped or hostile, whole documents around them (every
layout, `orderedItems` twice, truncations), and raw bytes of other formats.

Hypothesis draws one short byte string per input and `document` builds the file from it (each
byte, mixed with a generator it seeds, picks the next choice), so 10,000 inputs take seconds
and each one is reproducible from its bytes."""

from __future__ import annotations

import json
import random
from typing import Any

from hypothesis import strategies as st

ORG = "https://example.social/users/org"
URIS = [
    ORG, f"{ORG}/statuses/1", f"{ORG}/followers", "https://other.example/users/ana",
    "https://other.example/users/ana/statuses/2", "https://third.example/@bob/3",
    "https://x.example/@carol@elsewhere.example/4", "https://misskey.example/notes/9x",
    "https://www.w3.org/ns/activitystreams#Public", "as:Public", "http://[::1", "https://:99999",
    "https://h/users/" + "a" * 3000, "", "@ana@other.example", "did:plc:abc", "\ud800", "a\x00b",
]  # fmt: skip
TYPES = ["Create", "Announce", "Like", "Follow", "Join", "Add", "Undo", "Note", "Mention",
         "Question", "as:Like", "OrderedCollection", "OrderedCollectionPage", "x" * 100]  # fmt: skip
TIMES = ["2024-03-01T10:00:00Z", "2024-03-01", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z",
         "1700000000", "yesterday", "", "2024-13-45T99:99:99Z", "1e400"]  # fmt: skip
SCALARS: list[Any] = [None, True, 0, -1, 2**64, 1.5, 1e308, "", "x", "<p>a &amp; <b>b</b></p>",
                      "名前", "\n"]  # fmt: skip
KEYS = ["id", "type", "actor", "object", "published", "to", "cc", "tag", "inReplyTo", "href",
        "name", "content", "url", "attributedTo", "summary", "target", "orderedItems", "items",
        "first", "next"]  # fmt: skip
RAW = [b"<?xml version='1.0'?><rss/>", b"\x1f\x8b\x08\x00", b"PK\x03\x04", b"\xef\xbb\xbf{}",
       b"a,b\n1,2\n", b"\xff\xfe{\x00}\x00", b'{"orderedItems": ["\\ud800"]}', b"\xc3(", b"[",
       b'{"orderedItems": [{"type": "Like"}]} trailing']  # fmt: skip
GOOD_TIMES = TIMES[:1] * 6 + TIMES  # most activities must get far enough to be rows
ACTORS = URIS[:7] * 3 + URIS
ACTIVITY_FIELDS = {
    "id": ACTORS, "type": TYPES[:6] * 2 + TYPES, "actor": ACTORS, "published": GOOD_TIMES,
    "to": URIS, "cc": URIS, "target": URIS,
}  # fmt: skip
NOTE_FIELDS = {
    "id": ACTORS, "type": TYPES, "inReplyTo": URIS, "attributedTo": ACTORS, "to": URIS,
    "cc": URIS, "content": SCALARS, "url": URIS, "name": SCALARS, "published": GOOD_TIMES,
}  # fmt: skip


class _Choices:
    """Choices read from bytes, each the next byte mixed with a generator seeded by them all
    (Hypothesis draws mostly zeros; a short input still describes whole activities)."""

    def __init__(self, data: bytes) -> None:
        self.data, self.at = data, 0
        self.more = random.Random(data)

    def byte(self) -> int:
        self.at += 1
        noise = self.more.randrange(256)
        return self.data[self.at - 1] ^ noise if self.at <= len(self.data) else noise

    def pick(self, options: list[Any]) -> Any:
        return options[self.byte() % len(options)]

    def value(self, depth: int = 0) -> Any:
        kind = self.byte() % (6 if depth < 2 else 3)
        if kind == 0:
            return self.pick(SCALARS)
        if kind == 1:
            return self.pick(URIS)
        if kind == 2:
            return self.pick(TYPES + TIMES)
        if kind == 3:
            return [self.value(depth + 1) for _ in range(self.byte() % 3)]
        return {self.pick(KEYS): self.value(depth + 1) for _ in range(self.byte() % 3)}

    def fields(self, known: dict[str, list[Any]]) -> dict[str, Any]:
        """An object with each known field missing, typical, a list, or anything."""
        out: dict[str, Any] = {}
        for key, options in known.items():
            how = self.byte() % 16
            if how == 1:
                out[key] = [self.pick(options) for _ in range(self.byte() % 3)]
            elif how == 2:
                out[key] = self.value(1)
            elif how > 2:
                out[key] = self.pick(options)
        return out

    def activity(self) -> Any:
        if self.byte() % 8 == 0:
            return self.value()
        act = self.fields(ACTIVITY_FIELDS)
        how = self.byte() % 4
        if how in (0, 1):
            note = self.fields(NOTE_FIELDS)
            tags = []
            for _ in range(self.byte() % 3):
                tag = {"type": self.pick(["Mention", "Mention", "Hashtag", 7])}
                tag.update(self.fields({"href": URIS, "name": URIS + SCALARS}))
                tags.append(tag)
            note["tag"] = tags if self.byte() % 4 else self.value(1)
            act["object"] = note
        elif how == 2:
            act["object"] = self.pick(URIS)
        return act

    def items(self) -> list[Any]:
        return [self.activity() for _ in range(self.byte() % 4)]


def document(data: bytes) -> bytes:
    """The file `data` describes (see the module docstring)."""
    c = _Choices(data)
    kind = c.byte() % 8
    if kind == 0:
        raw: bytes = c.pick(RAW)
        return raw + data[1:40]
    layouts = ["ordered", "twice", "items", "paged", "array", "other", "ordered", "twice"]
    layout = c.pick(layouts)
    doc: Any
    if layout == "twice":
        first, second = json.dumps(c.items()), json.dumps(c.items())
        text = f'{{"type": "OrderedCollection", "orderedItems": {first}, "orderedItems": {second}}}'
    else:
        if layout == "ordered":
            doc = {"type": "OrderedCollection", "orderedItems": c.items()}
        elif layout == "items":
            doc = {"type": "Collection", "items": c.items()}
        elif layout == "paged":
            nxt = c.pick([None, URIS[0], {"items": c.items(), "next": URIS[1]}])
            doc = {"type": "OrderedCollection", "first": {"orderedItems": c.items(), "next": nxt}}
        elif layout == "array":
            doc = c.items()
        else:
            doc = c.value()
        text = json.dumps(doc, ensure_ascii=c.byte() % 2 == 0, indent=c.pick([None, 2]))
    if kind == 1:  # cut short
        text = text[: c.byte() * len(text) // 256]
    return text.encode("utf-8", "surrogatepass")


documents = st.binary(max_size=160).map(document)
