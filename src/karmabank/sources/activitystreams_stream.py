"""Reading ActivityStreams 2.0 JSON in bounded memory, with line numbers (ijson, C backend).

- JSON is UTF-8 (RFC 8259; a byte-order mark is dropped), plain or gzip (`input_file.open_binary`).
- `ItemLines` hands the file to ijson in 64 KiB chunks and keeps what it read since the last
  item, so each item's line is found exactly: the line of its `"id"` (an item without one, or
  whose id the file spells differently, e.g. with escaped slashes, gets the line its chunk ends on).
  `LineReader` reads line by line (the exact line of a syntax error).
- `check_json` parses a whole file once without building anything: malformed JSON is an
  error naming the file and line *before* any row is stored (nothing half-imported).
- `ordered_items` yields each item of a top-level `orderedItems` list, checking the file as it
  goes (its source's files are stored whole: `StoredWhole`). A Mastodon outbox may
  hold the key twice, the first one empty: every `orderedItems` is read, so whichever of the
  two holds the activities is taken (`json.load` keeps only the last one).
- `Collection` yields the items of any collection: `orderedItems` or `items` at the top,
  in an embedded `first` page and its embedded `next` pages (to any depth), or a top-level
  array; a page given only by URI is not fetched (pass each page's file instead).
"""

from __future__ import annotations

import codecs
import json
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import IO, Any

import ijson  # type: ignore[import-untyped]

from karmabank.errors import InputFileError

_ARRAY = re.compile(r"(?:(?:first|next)\.)*(?:orderedItems|items)")
_PAGE = re.compile(r"(?:(?:first|next)\.)*(?:first|next)")
_LINE_PIECE = 64 * 1024  # a longer line (minified JSON) is read in pieces of this size
Opener = Callable[[], AbstractContextManager[IO[bytes]]]  # opens the JSON, once per pass
Fail = Callable[[str], InputFileError]  # the error for a problem (sniff.wrong_format names
# the format a file looks like)
READ_ERRORS = (EOFError, OSError, zlib.error, zipfile.BadZipFile)


class LineReader:
    """A binary reader for ijson: one line per `read` (pieces of a very long line), so the
    line an item ends on is known (`line`); a UTF-8 byte-order mark is dropped."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self._ended = 0  # complete lines read
        self.line = 1  # the line of the last byte read

    def read(self, size: int = -1) -> bytes:
        if size == 0:
            return b""
        data = self._stream.readline(_LINE_PIECE)
        if not data:
            return data
        if self._ended == 0 and data.startswith(codecs.BOM_UTF8):
            data = data[3:]
        self.line = self._ended + 1
        if data.endswith(b"\n"):
            self._ended += 1
        return data


class _Chunks:
    """A binary reader for ijson handing out the stream as it comes (BOM dropped)."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self._start = True

    def read(self, size: int = -1) -> bytes:
        if size == 0:
            return b""
        data = self._stream.read(size)
        if self._start:
            self._start = False
            if data.startswith(codecs.BOM_UTF8):
                data = data[3:]
        return data


def json_problem(line: int, error: Exception) -> str:
    """What is wrong with JSON that does not parse at `line`, in one line."""
    if isinstance(error, READ_ERRORS) and not isinstance(error, ValueError):
        return f"line {line}: the file cannot be read ({error or type(error).__name__})"
    text = str(error).strip()
    first = text.splitlines()[0] if text else type(error).__name__
    if first.startswith(("b'", 'b"')):
        first = first[2:].strip("'\"").split("\\n")[0]
    return f"line {max(line, 1)}: not valid JSON ({first})"


def check_json(open_: Opener, fail: Fail) -> None:
    """Parse the whole file, building nothing; raise `fail(problem)` naming the line if it is
    not one well-formed JSON value (found by reading it again line by line)."""
    try:
        with open_() as stream:
            for _ in ijson.items(_Chunks(stream), "\x00"):  # a prefix no file holds
                pass
        return
    except (ijson.JSONError, UnicodeError, ValueError, *READ_ERRORS):
        pass
    raise _failed_at_line(open_, fail)


def _failed_at_line(open_: Opener, fail: Fail) -> InputFileError:
    """The error for a file that failed to parse once, naming the line it fails on."""
    with open_() as stream:
        reader = LineReader(stream)
        try:
            for _ in ijson.items(reader, "\x00"):
                pass
        except (ijson.JSONError, UnicodeError, ValueError, *READ_ERRORS) as e:
            return fail(json_problem(reader.line, e))
    return fail("not valid JSON")  # it failed once: never import what may be broken


class ItemLines:
    """A binary reader for ijson in chunks that finds the line of each item it yields (see the
    module docstring). Memory: the bytes since the last item found (at most `_KEEP` more)."""

    _CHUNK = 64 * 1024
    _KEEP = 4 * 1024 * 1024

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self._buffer = bytearray()  # the bytes read from the cursor on
        self._lines_before = 0  # newlines before the buffer's cursor
        self._cursor = 0
        self._read_lines = 0  # newlines read in all
        self._start = True

    def read(self, size: int = -1) -> bytes:
        if size == 0:
            return b""
        data = self._stream.read(self._CHUNK)
        if self._start:
            self._start = False
            if data.startswith(codecs.BOM_UTF8):
                data = data[3:]
        self._buffer += data
        self._read_lines += data.count(b"\n")
        if len(self._buffer) - self._cursor > self._KEEP:  # ids not found: let go of the oldest
            self._move(len(self._buffer) - self._KEEP // 2)
        return data

    def _move(self, to: int) -> None:
        self._lines_before += self._buffer.count(b"\n", self._cursor, to)
        self._cursor = to
        if self._cursor > self._CHUNK * 4:
            del self._buffer[: self._cursor]
            self._cursor = 0

    def line_of(self, item: object) -> int:
        """The line of `item`'s id (the item just parsed), else the line read up to."""
        uri = item.get("id") if isinstance(item, dict) else item
        if isinstance(uri, str) and uri:
            if uri.isascii() and uri.isprintable() and '"' not in uri and "\\" not in uri:
                key = b'"' + uri.encode("ascii") + b'"'  # what json.dumps writes, faster
            else:
                try:
                    key = json.dumps(uri, ensure_ascii=False).encode("utf-8")
                except UnicodeEncodeError:
                    key = b""
            at = self._buffer.find(key, self._cursor) if key else -1
            if at >= 0:
                self._move(at)
                return self._lines_before + 1
        return self._read_lines + 1


def ordered_items(open_: Opener, fail: Fail) -> Iterator[tuple[int, Any]]:
    """(line, item) for every item of every top-level `orderedItems` list, in one pass that
    also checks the file: JSON found broken part-way raises `fail(problem)` naming its line
    (the importer stores the file in one transaction: `StoredWhole`)."""
    with open_() as stream:
        reader = ItemLines(stream)
        items = ijson.items(reader, "orderedItems.item")
        while True:
            try:
                item = next(items)
            except StopIteration:
                return
            except (ijson.JSONError, UnicodeError, ValueError, *READ_ERRORS):
                break
            yield reader.line_of(item), item
    raise _failed_at_line(open_, fail)


def has_ordered_items(stream: IO[bytes]) -> bool:
    """Whether the JSON holds a top-level `orderedItems` list (an empty outbox does)."""
    for prefix, event, _ in ijson.parse(_Chunks(stream)):
        if prefix == "orderedItems" and event == "start_array":
            return True
    return False


class Collection:
    """The items of a collection file (see the module docstring); after iterating, `found`
    says how many there were; when there were none, `elsewhere` is the URI of a page not in
    the file, if any, and `kind` the top-level `type`.

    Two kinds of pass, both in ijson's C backend: the first checks the whole file (as
    `check_json`) while it finds where the items are (each array of items at a prefix of
    `first`/`next` pages, or the top-level array: a Python loop over ijson's events that
    builds nothing); then one `ijson.items` pass per such prefix builds the items in C."""

    def __init__(self, open_: Opener, fail: Fail) -> None:
        self._open, self._fail = open_, fail
        self.found = 0
        self.elsewhere: str | None = None
        self.kind: str | None = None

    def __iter__(self) -> Iterator[tuple[int, Any]]:
        for prefix in self._layout():
            with self._open() as stream:
                reader = ItemLines(stream)
                for item in ijson.items(reader, prefix):
                    self.found += 1
                    yield reader.line_of(item), item
        if self.found == 0:
            self._why_none()

    def _layout(self) -> list[str]:
        """The prefixes of the items, in the order the file first holds them; raises the
        error naming the line when the file is not one well-formed JSON value."""
        prefixes: list[str] = []
        try:
            with self._open() as stream:
                events = ijson.parse(_Chunks(stream))
                for _prefix, event, _value in events:  # the first: a top-level array?
                    if event == "start_array":
                        prefixes.append("item")
                    break
                if prefixes:
                    for _ in events:
                        pass
                    return prefixes
                for prefix, event, _value in events:
                    if event == "start_array" and _ARRAY.fullmatch(prefix):
                        if prefix + ".item" not in prefixes:
                            prefixes.append(prefix + ".item")
        except (ijson.JSONError, UnicodeError, ValueError, *READ_ERRORS):
            raise _failed_at_line(self._open, self._fail) from None
        return prefixes

    def _why_none(self) -> None:
        """`kind` and `elsewhere` of a file without items (a third pass: the error's)."""
        with self._open() as stream:
            for prefix, event, value in ijson.parse(_Chunks(stream)):
                if event != "string":
                    continue
                if prefix == "type":
                    self.kind = value
                elif self.elsewhere is None and _PAGE.fullmatch(prefix):
                    self.elsewhere = value
