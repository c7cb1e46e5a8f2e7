"""Reading an XML file as an importer must: checked whole before any row, then streamed.

`check_xml(file)` is the first pass: the whole file (decoded exactly as the import decodes
it, from a second `InputFile` on the same path) goes through expat with no callbacks, so a
file that is not well-formed XML, holds a byte its encoding does not decode, or breaks off (a
damaged gzip) is refused with its file and line before a single row is stored ("nothing
half-imported"). It returns the root element's name and the namespaces declared on it.
`Records` is the second pass: expat with handlers that keep only the elements and fields the
importer names, each with the line its start tag is on, one record at a time.
"""

from __future__ import annotations

import xml.parsers.expat
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from karmabank.errors import DamagedFileError, InputFileError
from karmabank.sources.input_file import InputFile, undecodable_byte
from karmabank.sources.sniff import sniff_path


@dataclass
class XmlRoot:
    """What the first pass saw of the document: the root element's namespace URI and local
    name, and the namespace URIs declared before it (on it)."""

    namespace: str = ""
    name: str = ""
    declared: list[str] = field(default_factory=list)


def refused(file: InputFile, line: int, problem: str, fmt: str) -> InputFileError:
    """`FILE:LINE: PROBLEM: nothing was imported`, with the format the file looks like when
    that is not `fmt`."""
    message = f"{file.display}:{line}: {problem}: nothing was imported"
    sniffed = sniff_path(file.path)
    if sniffed is not None and sniffed.format != fmt:
        message += f"; {sniffed.hint}"
    return InputFileError(message)


def _surrogate_line(lines: list[str], first: int) -> tuple[int, str]:
    for i, line in enumerate(lines):
        for ch in line:
            byte = undecodable_byte(ch)
            if byte is not None or 0xD800 <= ord(ch) <= 0xDFFF:
                what = f"the byte 0x{byte:02X}" if byte is not None else "a lone surrogate"
                return first + i, what
    return first, "a character that is not text"


def check_xml(file: InputFile, fmt: str) -> XmlRoot:
    """The first pass (module docstring): raises `InputFileError` naming the file and line
    when the file is not well-formed XML, holds a byte its encoding does not decode, or breaks
    off (a damaged gzip)."""
    root = XmlRoot()
    parser = xml.parsers.expat.ParserCreate(namespace_separator=" ")

    def declared(prefix: str | None, uri: str) -> None:
        root.declared.append(uri)

    def started(name: str, attrs: object) -> None:
        uri, _, local = name.rpartition(" ")
        root.namespace, root.name = uri, local
        parser.StartElementHandler = None  # the rest is parsed without calling back
        parser.StartNamespaceDeclHandler = None

    parser.StartNamespaceDeclHandler = declared
    parser.StartElementHandler = started
    encoding = file.encoding
    try:
        check = InputFile(file.path, encoding)
    except InputFileError as e:
        raise InputFileError(f"{e}: nothing was imported") from None
    with check:
        first = 1
        block = ""
        try:
            for block in check.blocks():
                first = check.lines_read + 1 - block.count("\n")
                parser.Parse(block, False)
            parser.Parse("", True)
        except DamagedFileError as e:
            raise InputFileError(f"{e}: nothing was imported") from None
        except xml.parsers.expat.ExpatError as e:
            message = xml.parsers.expat.errors.messages.get(e.code, str(e))
            problem = f"not well-formed XML ({message}, column {e.offset + 1})"
            raise refused(file, e.lineno, problem, fmt) from None
        except UnicodeEncodeError:
            line_no, what = _surrogate_line(block.splitlines(), first)
            hint = "import it with --encoding and the encoding the file is written in"
            if encoding.startswith("utf-8"):
                hint = "if the file is Latin-1 or Windows-1252, import it with --encoding cp1252"
            problem = f"holds {what}, which is not valid {encoding} ({hint})"
            message = f"{file.display}:{line_no}: {problem}: nothing was imported"
            raise InputFileError(message) from None
    return root


@dataclass(slots=True)
class Record:
    """An element the caller asked for (`Records`): its name (`URI local`, or `local` without
    a namespace), the line its start tag ends on, the text of each child element it asked for
    (the first of each name, without the white space around it), and its sub-records."""

    name: str
    line: int
    fields: dict[str, str] = field(default_factory=dict)
    children: list[Record] = field(default_factory=list)


class Records:
    """The second pass: expat with handlers that keep only what the caller asks for, so memory
    holds one record (a post with its comments) at a time and no tree is built.

    `records` are the names of the elements at depth `depth` (3: a child of `<rss><channel>`)
    to hand out, `texts` those among them whose own text is their field; `children` the names
    of sub-records one level below a record; `wanted` the names of the fields (children of a
    record or a sub-record) whose text to keep. Names are `URI local` (`namespace_separator`
    is a space)."""

    def __init__(
        self, records: frozenset[str], texts: frozenset[str], children: frozenset[str],
        wanted: frozenset[str], depth: int = 3,
    ) -> None:  # fmt: skip
        self.spec = records, texts, children, wanted, depth

    def read(self, file: InputFile, fmt: str) -> Iterator[Record]:
        records, texts, children, wanted, at = self.spec
        parser = xml.parsers.expat.ParserCreate(namespace_separator=" ")
        parser.buffer_text = True
        parser.buffer_size = 1 << 16
        parser.ordered_attributes = True
        done: list[Record] = []
        depth = 0
        record: Record | None = None
        sub: Record | None = None
        into: dict[str, str] = {}
        capture = ""  # the name of the field being read ("": none)
        capture_depth = 0
        buf: list[str] = []
        chars = buf.append

        at1, at2 = at + 1, at + 2

        def start(name: str, attrs: Any) -> None:
            nonlocal depth, record, sub, into, capture, capture_depth
            depth += 1
            if record is None:
                if depth == at and name in records:
                    record = Record(name, parser.CurrentLineNumber)
                    if name in texts:
                        into, capture, capture_depth = record.fields, name, depth
                        parser.CharacterDataHandler = chars
            elif depth == at2:
                if sub is not None and name in wanted:
                    into, capture, capture_depth = sub.fields, name, depth
                    parser.CharacterDataHandler = chars
            elif depth == at1:
                if name in children:
                    sub = Record(name, parser.CurrentLineNumber)
                    record.children.append(sub)
                elif name in wanted:
                    into, capture, capture_depth = record.fields, name, depth
                    parser.CharacterDataHandler = chars

        def end(name: str) -> None:
            nonlocal depth, record, sub, capture
            if depth == capture_depth and capture:
                if capture not in into:
                    into[capture] = "".join(buf).strip()
                buf.clear()
                capture = ""
                parser.CharacterDataHandler = None
            if depth == at1:
                sub = None
            elif depth == at and record is not None:
                done.append(record)
                record = None
            depth -= 1

        parser.StartElementHandler = start
        parser.EndElementHandler = end
        try:
            for block in file.blocks():
                parser.Parse(block, False)
                if done:
                    yield from done
                    done.clear()
            parser.Parse("", True)
            yield from done
        except xml.parsers.expat.ExpatError as e:  # the first pass read the same text
            message = xml.parsers.expat.errors.messages.get(e.code, str(e))
            raise refused(file, e.lineno, f"not well-formed XML ({message})", fmt) from None
        except UnicodeEncodeError:
            raise InputFileError(
                f"{file.display}:{file.lines_read}: holds a byte that is not valid "
                f"{file.encoding}: nothing more was imported"
            ) from None
