"""What format a file looks like, from its first bytes: for the error an importer raises when a
file does not parse as its own ("this looks like a Mastodon archive outbox: use `karmabank
import mastodon-archive`").

`sniff_bytes(head)` looks at the start of a file (gzip is unpacked first); `sniff_path(path)`
reads that start itself (and lists a zip archive's or a folder's names); `wrong_format(file,
fmt, problem)` is the error to raise. Nothing here reads more than `HEAD_BYTES` of a file, and
nothing here raises on any input: a file it does not recognize is `None`.
"""

from __future__ import annotations

import codecs
import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from karmabank.errors import InputFileError
from karmabank.sources.input_file import GZIP_MAGIC

HEAD_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class Sniffed:
    """A format a file looks like: `format` as `karmabank import` names it (with `preset` for
    a CSV preset) and `what`, the file's kind in words."""

    format: str
    what: str
    preset: str | None = None

    @property
    def command(self) -> str:
        preset = f" --preset {self.preset}" if self.preset else ""
        return f"karmabank import {self.format}{preset}"

    @property
    def hint(self) -> str:
        return f"this looks like {self.what}: use `{self.command}`"


# CSV headers as the platforms write them (lower-cased): every column of a signature must be
# there. The first signature that matches wins, so the more specific ones come first.
CSV_SIGNATURES: tuple[tuple[frozenset[str], Sniffed], ...] = (
    (
        frozenset({"email address", "member_rating"}),
        Sniffed("csv", "a Mailchimp audience export", "mailchimp-audience"),
    ),
    (
        frozenset({"email address", "leid", "euid"}),
        Sniffed("csv", "a Mailchimp audience export", "mailchimp-audience"),
    ),
    (
        frozenset({"member_id", "action"}),
        Sniffed("csv", "a Mailchimp campaign activity export", "mailchimp-activity"),
    ),
    (
        frozenset({"order #", "attendee status"}),
        Sniffed("csv", "an Eventbrite attendee report", "eventbrite"),
    ),
    (
        frozenset({"order #", "ticket type"}),
        Sniffed("csv", "an Eventbrite attendee report", "eventbrite"),
    ),
    (frozenset({"user id", "rsvp"}), Sniffed("csv", "a Meetup attendee list", "meetup")),
    (frozenset({"rsvped on"}), Sniffed("csv", "a Meetup attendee list", "meetup")),
    (
        frozenset({"created (utc)", "amount", "status"}),
        Sniffed("csv", "a Stripe payments export", "stripe"),
    ),
    (
        frozenset({"total amount", "receive date"}),
        Sniffed("csv", "a CiviCRM contributions export", "civicrm-contributions"),
    ),
    (
        frozenset({"username", "email", "trust_level"}),
        Sniffed("csv", "a Discourse user export", "discourse"),
    ),
    (
        frozenset({"occurred_at", "person", "verb", "direction"}),
        Sniffed("csv", "a karmabank CSV"),
    ),
)

_WXR = re.compile(rb"xmlns:wp\s*=|<wp:(?:wxr_version|author|comment|post_id)\b")
_FEED = re.compile(
    rb"<rss[\s>]|<feed[\s>][^>]*?http://www\.w3\.org/2005/Atom|<rdf:RDF[\s>]|<feed\s+xmlns"
)
_ORDERED_ITEMS = re.compile(rb'"orderedItems"\s*:|"type"\s*:\s*"(?:Ordered)?Collection(?:Page)?"')
_MASTODON = re.compile(
    rb'"id"\s*:\s*"(?:outbox\.json|likes\.json|bookmarks\.json|[^"]*/outbox)"'
    rb"|joinmastodon\.org/ns|\"atomUri\"\s*:"
)
_MASTODON_OUTBOX = re.compile(rb'"id"\s*:\s*"(?:outbox\.json|[^"]*/outbox)"')
_AS_CONTEXT = re.compile(rb"https?://www\.w3\.org/ns/activitystreams")
_JSON_FEED = re.compile(rb'"version"\s*:\s*"https?://jsonfeed\.org/version/')
_EDGE_LINE = re.compile(rb"^\s*\S+\s+\S+\s+-?\d+(?:\.\d+)?(?:\s+\S+)*\s*$")


def _unpacked(head: bytes) -> bytes:
    """A gzip file's first bytes unpacked (as many as `HEAD_BYTES` allow), else `head`."""
    if not head.startswith(GZIP_MAGIC):
        return head
    try:
        return zlib.decompressobj(wbits=47).decompress(head, HEAD_BYTES)
    except zlib.error:
        return b""


def _as_utf8(head: bytes) -> bytes:
    """UTF-16/32 text (with its byte-order mark) as UTF-8; a UTF-8 mark dropped."""
    for bom, codec in (
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if head.startswith(bom):
            return head.decode(codec, "ignore").encode()
    return head.removeprefix(codecs.BOM_UTF8)


def _car(head: bytes) -> bool:
    """A CAR v1 file starts with a varint length, then a DAG-CBOR map holding `roots` and
    `version`."""
    length = shift = 0
    for i, b in enumerate(head[:5]):
        length |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            header = head[i + 1 : i + 1 + length]
            return (
                0 < length <= 4096
                and bool(header)
                and 0xA0 <= header[0] <= 0xB7
                and b"roots" in header
                and b"version" in header
            )
    return False


def _json(text: bytes) -> Sniffed | None:
    if _JSON_FEED.search(text):
        return Sniffed("feed", "a JSON Feed")
    if _ORDERED_ITEMS.search(text) or _AS_CONTEXT.search(text):
        if _MASTODON_OUTBOX.search(text):
            return Sniffed("mastodon-archive", "a Mastodon archive outbox")
        if _MASTODON.search(text):
            return Sniffed("mastodon-archive", "a file of a Mastodon archive")
        return Sniffed("activitystreams", "an ActivityStreams collection")
    return None


def _csv_header(text: bytes) -> Sniffed | None:
    first = text.split(b"\n", 1)[0].rstrip(b"\r").decode("utf-8", "replace")
    delimiter = max(",;\t", key=first.count)
    if first.count(delimiter) == 0:
        return None
    names = {c.strip().strip('"').strip().lower() for c in first.split(delimiter)}
    for signature, sniffed in CSV_SIGNATURES:
        if signature <= names:
            return sniffed
    return None


def _edge_list(text: bytes) -> bool:
    lines = [ln for ln in text.splitlines()[:20] if ln.strip() and ln.lstrip()[:1] not in b"%#"]
    if len(lines) > 1:
        lines = lines[:-1]  # the last one may be cut off by the head's end
    return bool(lines) and all(_EDGE_LINE.match(ln) for ln in lines)


def sniff_bytes(head: bytes) -> Sniffed | None:
    """The format the first bytes of a file look like (None: not one karmabank recognizes)."""
    if head.startswith(b"PK\x03\x04"):
        return Sniffed("mastodon-archive", "a zip archive (a Mastodon archive?)")
    if _car(head):
        return Sniffed("bluesky-repo", "an AT Protocol repository (CAR)")
    text = _as_utf8(_unpacked(head))
    start = text.lstrip()[:1]
    if start == b"<":
        if _WXR.search(text):
            return Sniffed("wxr", "a WordPress export (WXR)")
        if _FEED.search(text):
            return Sniffed("feed", "an RSS or Atom feed")
        return None
    if start in (b"{", b"["):
        return _json(text)
    if not start:
        return None
    if (found := _csv_header(text)) is not None:
        return found
    if _edge_list(text):
        return Sniffed("edgelist", "a temporal edge list")
    return None


def _zip_names(path: Path) -> list[str]:
    try:
        with zipfile.ZipFile(path) as archive:
            return archive.namelist()[:10_000]
    except (OSError, zipfile.BadZipFile, ValueError):
        return []


def sniff_path(path: Path) -> Sniffed | None:
    """The format the file (or folder) at `path` looks like, from its first bytes (a zip
    archive's and a folder's by their names: `outbox.json` is a Mastodon archive)."""
    try:
        if path.is_dir():
            names = [p.name for p in path.iterdir()]
            if "outbox.json" in names:
                return Sniffed("mastodon-archive", "a Mastodon archive folder")
            return None
        with path.open("rb") as f:
            head = f.read(HEAD_BYTES)
    except OSError:
        return None
    if head.startswith(b"PK\x03\x04"):
        names = _zip_names(path)
        if any(n.rsplit("/", 1)[-1] == "outbox.json" for n in names):
            return Sniffed("mastodon-archive", "a Mastodon archive")
        return None
    return sniff_bytes(head)


def _display(file: object) -> tuple[str, Path | None]:
    if isinstance(file, Path):
        return str(file), file
    if isinstance(file, str):
        return file, Path(file)
    path = getattr(file, "path", None)
    display = getattr(file, "display", None)
    return (str(display if display is not None else path), path if isinstance(path, Path) else None)


def wrong_format(file: object, fmt: str, problem: str, preset: str | None = None) -> InputFileError:
    """The error for a file that does not parse as format `fmt` (`preset`: the CSV preset
    used): "FILE: PROBLEM; this looks like WHAT: use `karmabank import X`" when the file looks
    like another format, else "FILE: PROBLEM". `file` is an `InputFile`, a `Path` or a name.

    Raise it: `raise wrong_format(file, "wxr", "not a WordPress export (no <rss> element)")`.
    """
    display, path = _display(file)
    sniffed = sniff_path(path) if path is not None else None
    message = f"{display}: {problem}"
    if sniffed is not None and (sniffed.format, sniffed.preset) != (fmt, preset):
        message += f"; {sniffed.hint}"
    return InputFileError(message)
