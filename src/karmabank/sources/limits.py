"""What an imported row may hold, whatever importer read it: the rules `read_items` applies
to every item a source yields, the same on SQLite and PostgreSQL.

A row is quarantined (file, line, reason) when a value it would store
- holds a NUL character (PostgreSQL cannot store one; SQLite would, so neither does),
- holds a byte that is not valid in the file's encoding (see `karmabank.sources.input_file`;
  the reason names the byte and suggests `--encoding`), or
- is longer than its maximum: an identity key `MAX_IDENTITY_BYTES` bytes of UTF-8 (what a
  unique index holds on PostgreSQL), a name `MAX_NAME`, a `source_key` `MAX_SOURCE_KEY`,
  an object `MAX_OBJECT`, a text `MAX_TEXT` characters (verbs and channels have their
  own rules: `karmabank.sources.vocabulary`).
A file that breaks off part-way (`DamagedFileError`) ends the file's rows with one
quarantined row at the line where it broke; the rows before it are kept. Rows an importer
quarantines itself are stored with NUL and undecodable bytes written as `\\x00`, `\\xNN`,
their raw text cut at `MAX_RAW` characters.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from karmabank.errors import DamagedFileError
from karmabank.sources.base import BadRow, ParsedRow, Source, SourceItem
from karmabank.sources.input_file import InputFile, printable, undecodable_byte
from karmabank.sources.vocabulary import row_text

MAX_IDENTITY_BYTES = 2_048
MAX_NAME = 512
MAX_SOURCE_KEY = 512
MAX_OBJECT = 8_192
MAX_TEXT = 65_536
MAX_RAW = 100_000
MAX_REASON = 1_000
_SHORT = 512  # values together no longer than this pass every maximum


def read_items(source: Source, file: InputFile) -> Iterator[SourceItem]:
    """The items `source` reads from `file`, with the rules above applied."""
    hint = _encoding_hint(file.encoding)
    try:
        for item in source.read(file):
            if type(item) is ParsedRow:
                values = _joined(item)  # most rows: short, ASCII, no NUL
                if values.isascii() and len(values) <= _SHORT and "\x00" not in values:
                    yield item
                    continue
                reason = row_problem(item, hint)
                if reason is not None:
                    raw = file.recent_line(item.line) or ""
                    yield BadRow(item.line, printable(raw, MAX_RAW), reason)
                    continue
            elif type(item) is BadRow:
                item = _stored_bad_row(item, hint)
            yield item
    except DamagedFileError as e:
        yield BadRow(e.line, "", e.reason)


def fetched_items(items: Iterable[SourceItem]) -> Iterator[SourceItem]:
    """The rules above on items a live connector fetched (`karmabank.connectors`): their text
    came decoded from JSON, so a row breaking a rule is quarantined with its fields as CSV."""
    hint = "is not valid text"
    for item in items:
        if type(item) is ParsedRow:
            reason = row_problem(item, hint)
            if reason is not None:
                item = BadRow(item.line, printable(row_text(item), MAX_RAW), reason)
        elif type(item) is BadRow:
            item = _stored_bad_row(item, hint)
        yield item


def _encoding_hint(encoding: str) -> str:
    if encoding.startswith("utf-8"):
        return (
            "is not valid UTF-8: if the file is Latin-1 or Windows-1252, import it with "
            "--encoding cp1252 (or the file's encoding)"
        )
    return f"is not valid {encoding}: import the file with the --encoding it is written in"


def _values(r: ParsedRow) -> tuple[tuple[str, str | None], ...]:
    target = r.target
    return (
        ("person", r.person.key), ("target", target.key if target else None),
        ("verb", r.verb), ("channel", r.channel), ("source_key", r.source_key),
        ("name", r.name), ("object", r.object), ("text", r.text),
        *(("also", k.key) for k in r.also),
    )  # fmt: skip


def _joined(r: ParsedRow) -> str:
    target = r.target
    return (
        f"{r.person.key}{target.key if target else ''}{r.verb}{r.channel}{r.source_key}"
        f"{r.name or ''}{r.object or ''}{r.text or ''}{''.join(k.key for k in r.also)}"
    )


def row_problem(r: ParsedRow, encoding_hint: str) -> str | None:
    """Why `r` cannot be stored, or None."""
    joined = _joined(r)
    if not joined.isascii() or "\x00" in joined:
        for what, value in _values(r):
            if value:
                reason = character_problem(value, encoding_hint)
                if reason is not None:
                    return f"{what} {reason}"
    return None if len(joined) <= _SHORT else _too_long(r)


def character_problem(value: str, encoding_hint: str) -> str | None:
    """Why `value` holds a character no database stores (NUL, an undecodable byte), or None."""
    nul = value.find("\x00")
    if nul >= 0:
        return (
            f"contains a NUL character (\\x00) at character {nul + 1}: text never holds one "
            "(is this a binary or UTF-16 file?)"
        )
    if value.isascii():
        return None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as e:
        byte = undecodable_byte(value[e.start])
        if byte is None:
            return f"holds a lone surrogate (U+{ord(value[e.start]):04X}), which is not text"
        return f"holds the byte 0x{byte:02X} (at character {e.start + 1}), which {encoding_hint}"
    return None


def _too_long(r: ParsedRow) -> str | None:
    keys = (("person", r.person.key), ("target", r.target and r.target.key),
            *(("also", k.key) for k in r.also))  # fmt: skip
    for what, key in keys:
        if key and len(key) > MAX_IDENTITY_BYTES // 4:
            size = len(key.encode("utf-8"))
            if size > MAX_IDENTITY_BYTES:
                return (
                    f"{what} identity is too long: {size:,} bytes of UTF-8 (at most "
                    f"{MAX_IDENTITY_BYTES:,}): '{printable(key[:20])}…'"
                )
    for what, value, limit in (
        ("source_key", r.source_key, MAX_SOURCE_KEY), ("name", r.name, MAX_NAME),
        ("object", r.object, MAX_OBJECT), ("text", r.text, MAX_TEXT),
    ):  # fmt: skip
        if value and len(value) > limit:
            return f"{what} is too long: {len(value):,} characters (at most {limit:,})"
    return None


def _stored_bad_row(b: BadRow, encoding_hint: str) -> BadRow:
    """`b` as the quarantine can store it: printable raw and reason, both cut to a size;
    a raw row holding an undecodable byte is quarantined for that first."""
    raw, reason = b.raw, b.reason
    if raw.isascii() and "\x00" not in raw and len(raw) <= MAX_RAW and len(reason) <= MAX_REASON:
        if reason.isascii() and "\x00" not in reason:
            return b
    if not raw.isascii():
        problem = character_problem(raw.replace("\x00", ""), encoding_hint)
        if problem is not None:
            reason = f"the row {problem}"
    return BadRow(b.line, printable(raw, MAX_RAW), printable(reason, MAX_REASON))
