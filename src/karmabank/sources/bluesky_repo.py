"""The organization's AT Protocol repository (a Bluesky account's `.car` export, CAR v1 of
DAG-CBOR blocks), decoded with `libipld` (the CAR, its commit, the Merkle search tree and the
records; nothing decoded by hand).

- **Whose repository**: the signed commit (the CAR's root) names the owner's DID; it is yielded
  first as the organization's identity (`bluesky:did:plc:...`). Every record is the owner's.
- **Gives** (direction `give`, channel `bluesky`, to the DID of the person acted on, taken
  from the subject's `at://DID/collection/rkey` URI, never from a handle):
  `app.bsky.feed.like` -> `like`, `app.bsky.feed.repost` -> `share`, `app.bsky.graph.follow`
  -> `follow`; a post that replies to someone else's post -> `reply` to the parent's author;
  a post that quotes someone else's post (an `app.bsky.embed.record` or `recordWithMedia`
  embed) -> `share` (a quote passes their post to our audience, as a repost does); each DID a
  post's facets mention -> `feature` (besides the replied-to author, as for Mastodon). A give
  to the owner itself (a like of its own post, a reply in its own thread) is skipped with the
  reason. The object is the subject's `at://` URI; a post's text is kept with its gives.
- **Content**: each of the owner's posts (`app.bsky.feed.post`, replies included) is the
  organization's content (`OrgContentRow`), its object the post's `at://` URI.
- **Other records** (the profile, a chat declaration, blocks, lists, feed generators, ...)
  are skipped with the collection named: they are settings, not activities (a block is not a
  give).
- **Times**: each record's `createdAt`. **Keys**: `bluesky-repo:` + the record's `at://` URI
  (+ `#reply`, `#quote`, `#mention:DID` for a post's gives), so a later, larger export of the
  same account imports only the new records.
- **Lines**: a CAR has none; a row's "line" is the record's number in the repository's key
  order, counting the commit (the owner's DID) as 1, so the first record is 2.
- **Bad input**: a file that is no CAR, or whose commit or tree blocks are missing or not what
  the AT Protocol writes, is one error naming the file (and the format it looks like), before
  any row: the tree is walked whole before the first row is yielded. A record whose block is
  missing or is not a record (no `createdAt`, a subject that is no `at://` URI or DID) is
  quarantined with the reason; the other records are imported.
- **Memory**: `libipld.decode_car` decodes the whole file at once (a repository is the
  account's own records: megabytes); files over `MAX_CAR_BYTES` are refused. A gzipped CAR is
  read as the CAR it holds.
"""

from __future__ import annotations

import functools
import json
import re
import zlib
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any, ClassVar

import libipld

from karmabank.bounds import check_micros
from karmabank.errors import IdentityError, InputFileError
from karmabank.identities import normalize_identity
from karmabank.model import IdentityKey, to_micros
from karmabank.sources.base import (
    BadRow,
    InputFile,
    OrgContentRow,
    OrgIdentityRow,
    ParsedRow,
    SkippedRow,
    SourceItem,
    check_options,
    parse_time,
)
from karmabank.sources.input_file import open_binary
from karmabank.sources.sniff import wrong_format

FORMAT = "bluesky-repo"
KEY_PREFIX = "bluesky-repo"
CHANNEL = "bluesky"
MAX_CAR_BYTES = 1 << 30  # a repository is the account's own records: megabytes, not gigabytes
MAX_NODES = 10_000_000  # tree nodes walked (a cycle or a runaway tree is an error, not a hang)
MAX_RAW = 2_000  # characters of a record kept with a quarantined row
POST = "app.bsky.feed.post"
GIVES = {"app.bsky.feed.like": "like", "app.bsky.feed.repost": "share"}
FOLLOW = "app.bsky.graph.follow"
MENTION = "app.bsky.richtext.facet#mention"
QUOTE_EMBEDS = ("app.bsky.embed.record", "app.bsky.embed.record#view")
QUOTE_WITH_MEDIA = "app.bsky.embed.recordWithMedia"
DID = re.compile(r"did:[a-z]+:[A-Za-z0-9._:%-]{1,2000}")
SELF = "the organization toward itself"
AT_URI = re.compile(r"at://([^/?#]+)(?:/([^/?#]+)(?:/([^/?#]+))?)?")


class _BadRepository(Exception):
    """The CAR's commit or tree is not what the AT Protocol writes."""


def _did(value: object) -> IdentityKey | None:
    """A DID as a Bluesky identity, or None."""
    return _did_of(value) if isinstance(value, str) else None


@functools.lru_cache(maxsize=1 << 16)  # the same few thousand accounts, acted on again and again
def _did_of(value: str) -> IdentityKey | None:
    if not DID.fullmatch(value):
        return None
    try:
        return normalize_identity("bluesky", value)
    except IdentityError:
        return None


def _uri_did(uri: object) -> IdentityKey | None:
    """The DID of an `at://DID/...` URI (the account it belongs to), or None."""
    if not isinstance(uri, str) or not uri.startswith("at://"):
        return None
    authority = uri[5:].partition("/")[0]
    return _did_of(authority) if authority else None


def _raw(value: object) -> str:
    def plain(v: object) -> object:
        return v.hex() if isinstance(v, bytes) else repr(v)

    try:
        text = json.dumps(value, default=plain, ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError, RecursionError):
        text = repr(value)
    return text[:MAX_RAW]


def records(blocks: Mapping[Any, Any], root: object) -> Iterator[tuple[str, object]]:
    """The (key `collection/rkey`, record CID) of a tree in key order, from its root node's
    CID (an MST: each node a left subtree `l` and entries of a key suffix `k` after `p`
    characters of the previous key, a value `v` and a right subtree `t`). Raises _BadRepository
    for a node that is missing or malformed, or a tree that loops."""
    stack: list[tuple[str, object]] = [("node", root)]  # ("node", cid) | ("key", key, cid)
    seen: set[bytes] = set()
    walked = 0
    while stack:
        kind, item = stack.pop()
        if kind == "key":
            assert isinstance(item, tuple)
            yield item
            continue
        if not isinstance(item, bytes):
            raise _BadRepository("a tree link that is not a CID")
        if item in seen:
            raise _BadRepository("the tree links to one of its nodes twice")
        seen.add(item)
        walked += 1
        if walked > MAX_NODES:
            raise _BadRepository(f"more than {MAX_NODES:,} tree nodes")
        node = blocks.get(item)
        if node is None:
            raise _BadRepository(f"tree node {_cid(item)} is not in the file")
        entries = node.get("e") if isinstance(node, dict) else None
        if not isinstance(entries, list):
            raise _BadRepository(f"tree node {_cid(item)} is not a tree node")
        pending: list[tuple[str, object]] = []
        if node.get("l") is not None:
            pending.append(("node", node["l"]))
        key = b""
        for e in entries:
            if not isinstance(e, dict) or not isinstance(e.get("k"), bytes):
                raise _BadRepository(f"tree node {_cid(item)}: an entry without a key")
            prefix = e.get("p")
            if not isinstance(prefix, int) or not 0 <= prefix <= len(key):
                raise _BadRepository(f"tree node {_cid(item)}: a key prefix out of range")
            key = key[:prefix] + e["k"]
            pending.append(("key", (key.decode("utf-8", "replace"), e.get("v"))))
            if e.get("t") is not None:
                pending.append(("node", e["t"]))
        stack.extend(reversed(pending))


def _cid(cid: bytes) -> str:
    try:
        return str(libipld.encode_cid(cid))
    except Exception:  # noqa: BLE001 - a name for an error message only
        return cid[:40].hex()


def decode(data: bytes) -> tuple[str, Mapping[Any, Any], object]:
    """(the owner's DID, the CAR's blocks, the tree's root CID) of a repository CAR; raises
    _BadRepository (ValueError from libipld for what is not a CAR)."""
    try:
        header, blocks = libipld.decode_car(data)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as e:  # noqa: BLE001 - libipld's errors (a Rust panic included)
        raise _BadRepository(f"not a CAR file ({str(e)[:200]})") from None
    roots = header.get("roots") if isinstance(header, dict) else None
    if not isinstance(roots, list) or not roots:
        raise _BadRepository("a CAR without a root (no repository commit)")
    commit = blocks.get(roots[0])
    if commit is None:
        raise _BadRepository("the CAR's root (the repository commit) is not in the file")
    if not isinstance(commit, dict) or "data" not in commit:
        raise _BadRepository("the CAR's root is not a repository commit (no `did` and `data`)")
    owner = commit.get("did")
    if not isinstance(owner, str) or _did(owner) is None:
        raise _BadRepository("the repository commit names no DID")
    return owner, blocks, commit["data"]


class BlueskyRepoSource:
    name: ClassVar[str] = FORMAT
    description: ClassVar[str] = (
        "the organization's Bluesky repository (.car): its likes, reposts, replies, quotes, "
        "follows and mentions as gives, its posts as its content"
    )
    option_names: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, options: Mapping[str, str]) -> None:
        check_options(self.name, options, self.option_names)

    def organization_identities(self) -> list[IdentityKey]:
        return []  # the repository says whose it is: yielded as an OrgIdentityRow

    def read(self, file: InputFile) -> Iterator[SourceItem]:
        data = _car_bytes(file)
        try:
            owner, blocks, root = decode(data)
            keyed = list(records(blocks, root))
        except _BadRepository as e:
            raise wrong_format(file, FORMAT, f"not a Bluesky repository: {e}") from None
        del data
        org = _did(owner)
        assert org is not None
        yield OrgIdentityRow(1, org)
        for n, (key, cid) in enumerate(keyed, start=2):
            record = blocks.get(cid) if isinstance(cid, bytes) else None
            yield from self._record(n, org, key, record)

    def _record(
        self, line: int, org: IdentityKey, key: str, record: object
    ) -> Iterator[SourceItem]:
        collection, _, rkey = key.partition("/")
        uri = f"at://{org.key}/{key}"
        if record is None:
            yield BadRow(line, uri, "the record's block is not in the file")
            return
        if not isinstance(record, dict):
            yield BadRow(line, f"{uri} {_raw(record)}", "a record that is not a map")
            return
        if collection not in GIVES and collection not in (FOLLOW, POST):
            yield SkippedRow(line, f"{_shown(collection)} records are not activities")
            return
        if not collection or not rkey:
            yield BadRow(line, f"{uri} {_raw(record)}", "a record key that is not collection/rkey")
            return
        created = record.get("createdAt")
        if not isinstance(created, str):
            yield BadRow(line, f"{uri} {_raw(record)}", "a record without `createdAt`")
            return
        try:
            at = _time(created)
        except ValueError as e:
            yield BadRow(line, f"{uri} {_raw(record)}", f"createdAt: {e}")
            return
        key_of = f"{KEY_PREFIX}:{uri}"
        if collection == POST:
            yield from _post(line, org, uri, key_of, at, record)
            return
        subject = record.get("subject")
        if collection == FOLLOW:
            other, obj = _did(subject), None
        else:
            obj = subject.get("uri") if isinstance(subject, dict) else None
            other = _uri_did(obj)
        if other is None:
            why = "a follow whose subject is no DID" if obj is None else "no at://DID subject"
            yield BadRow(line, f"{uri} {_raw(record)}", why)
            return
        verb = "follow" if collection == FOLLOW else GIVES[collection]
        if other == org:
            yield SkippedRow(line, SELF)
            return
        yield ParsedRow(line, key_of, at, other, verb, "give", CHANNEL, object=_str(obj))


def _post(
    line: int, org: IdentityKey, uri: str, key: str, at: int, record: dict[str, Any]
) -> Iterator[SourceItem]:
    """A post's gives (reply, quote, mentions) and the post as the organization's content."""
    text = record.get("text") if isinstance(record.get("text"), str) else None
    text = text or None
    rows: list[SourceItem] = []
    reply = record.get("reply")
    parent = reply.get("parent") if isinstance(reply, dict) else None
    replied_uri = parent.get("uri") if isinstance(parent, dict) else None
    replied_to = _uri_did(replied_uri)
    if reply is not None and replied_to is None:
        rows.append(BadRow(line, f"{uri} {_raw(record)}", "a reply whose parent is no at://DID"))
    elif replied_to is not None and replied_to != org:
        rows.append(ParsedRow(line, f"{key}#reply", at, replied_to, "reply", "give", CHANNEL,
                              object=_str(replied_uri), text=text))  # fmt: skip
    quoted_uri = _quoted(record.get("embed"))
    quoted = _uri_did(quoted_uri)
    if quoted is not None and quoted != org:
        rows.append(ParsedRow(line, f"{key}#quote", at, quoted, "share", "give", CHANNEL,
                              object=quoted_uri, text=text))  # fmt: skip
    for did in _mentions(record.get("facets"), {org, replied_to}):
        rows.append(ParsedRow(line, f"{key}#mention:{did.key}", at, did, "feature", "give",
                              CHANNEL, object=uri, text=text))  # fmt: skip
    rows.append(OrgContentRow(line, key, at, CHANNEL, uri, None, text))
    yield from rows


def _car_bytes(file: InputFile) -> bytes:
    """The file's bytes (gunzipped when it is gzip), at most MAX_CAR_BYTES."""
    too_big = InputFileError(
        f"{file.display}: more than a repository export holds ({MAX_CAR_BYTES:,} bytes at most)"
    )
    try:
        with open_binary(file.path) as f:
            data = f.read(MAX_CAR_BYTES + 1)
    except OSError as e:  # gzip.BadGzipFile included
        raise InputFileError(f"{file.display}: cannot read it: {e}") from None
    except (EOFError, zlib.error) as e:
        raise InputFileError(f"{file.display}: a damaged gzip file: {e}") from None
    if len(data) > MAX_CAR_BYTES:
        raise too_big
    return data


def _quoted(embed: object) -> str | None:
    """The at:// URI of the post a post's embed quotes, or None."""
    if not isinstance(embed, dict):
        return None
    kind = embed.get("$type")
    inner = embed.get("record")
    if kind == QUOTE_WITH_MEDIA and isinstance(inner, dict):
        kind, inner = QUOTE_EMBEDS[0], inner.get("record")
    if kind not in QUOTE_EMBEDS or not isinstance(inner, dict):
        return None
    uri = inner.get("uri")
    if not isinstance(uri, str):
        return None
    m = AT_URI.fullmatch(uri)
    return uri if m and m.group(2) == POST else None


def _mentions(facets: object, besides: set[IdentityKey | None]) -> list[IdentityKey]:
    """The DIDs a post's facets mention, each once, besides `besides`."""
    out: list[IdentityKey] = []
    for facet in facets if isinstance(facets, list) else []:
        features = facet.get("features") if isinstance(facet, dict) else None
        for feature in features if isinstance(features, list) else []:
            if not isinstance(feature, dict) or feature.get("$type") != MENTION:
                continue
            did = _did(feature.get("did"))
            if did is not None and did not in besides and did not in out:
                out.append(did)
    return out


def _time(text: str) -> int:
    """`createdAt` (RFC 3339, as the AT Protocol writes it) -> UTC microseconds; anything
    else through `parse_time` (ValueError with the reason)."""
    if len(text) >= 20 and text[4:5] == "-" and text[10:11] == "T":
        try:
            return check_micros(to_micros(datetime.fromisoformat(text)), text)
        except ValueError:
            pass
    return parse_time(text)


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _shown(text: str) -> str:
    return text if len(text) <= 60 and text.isprintable() else repr(text[:60]) + "…"
