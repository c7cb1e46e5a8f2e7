"""Reading an XML file as an importer must: in one streamed pass, refused whole if broken.

`read_records(file, fmt, wanted)` first reads the document's start with expat, just far enough
to see its root element (its namespace URI, local name and the namespaces declared on it:
`XmlRoot`), so the caller can refuse a file of another format before any row; then it parses
the whole text with lxml (libxml2) in one pass, keeping only the elements the caller names,
each with the line its start tag is on, one record at a time (a record's elements are
dropped once it is handed out: memory holds one record, a post with its comments).

A file that is not well-formed XML, holds a byte its encoding does not decode, or breaks off
(a damaged gzip) raises `InputFileError` naming the file and line, wherever that is in the
file: the importer stores such a source's file in one transaction (`StoredWhole`), so
nothing of it is imported. Entities are never resolved (no external entity is read, none
expands), and no network is used.
"""

from __future__ import annotations

import xml.parsers.expat
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from lxml import etree  # type: ignore[import-untyped]

from karmabank.errors import DamagedFileError, InputFileError
from karmabank.sources.input_file import InputFile, undecodable_byte
from karmabank.sources.sniff import sniff_path


@dataclass
class XmlRoot:
    """The root element: its namespace URI and local name, and the namespace URIs declared
    before it (on it)."""

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


def _undecodable(file: InputFile, block: str, first: int) -> InputFileError:
    line_no, what = _surrogate_line(block.splitlines(), first)
    hint = "import it with --encoding and the encoding the file is written in"
    if file.encoding.startswith("utf-8"):
        hint = "if the file is Latin-1 or Windows-1252, import it with --encoding cp1252"
    problem = f"holds {what}, which is not valid {file.encoding} ({hint})"
    return InputFileError(f"{file.display}:{line_no}: {problem}: nothing was imported")


@dataclass(slots=True)
class Record:
    """An element the caller asked for (`read_records`): its name (`{URI}local`, or `local`
    without a namespace), the line its start tag is on, the text of each child element it
    asked for (the first of each name, without the white space around it), and its
    sub-records."""

    name: str
    line: int
    fields: dict[str, str] = field(default_factory=dict)
    children: list[Record] = field(default_factory=list)


def _text(element: etree._Element) -> str:
    if len(element):  # markup inside the field: all of its text
        return "".join(element.itertext()).strip()
    return (element.text or "").strip()


class _Root:
    """Expat over the document's first blocks, stopping at the root element's start tag."""

    def __init__(self) -> None:
        self.root = XmlRoot()
        self.seen = False
        self.parser = xml.parsers.expat.ParserCreate(namespace_separator=" ")
        self.parser.StartNamespaceDeclHandler = self._declared
        self.parser.StartElementHandler = self._started

    def _declared(self, prefix: str | None, uri: str) -> None:
        self.root.declared.append(uri)

    def _started(self, name: str, attrs: object) -> None:
        uri, _, local = name.rpartition(" ")
        self.root.namespace, self.root.name = uri, local
        self.seen = True
        self.parser.StartElementHandler = None
        self.parser.StartNamespaceDeclHandler = None


@dataclass(frozen=True)
class Wanted:
    """What `read_records` keeps. `records` are the names of the elements at depth `depth`
    (3: a child of `<rss><channel>`) to hand out, `texts` those among them whose own text is
    their field; `children` the names of sub-records one level below a record; `fields` the
    names of the fields (children of a record or a sub-record) whose text to keep. Names are
    `{URI}local` (lxml's), or `local` without a namespace."""

    records: frozenset[str]
    texts: frozenset[str]
    children: frozenset[str]
    fields: frozenset[str]
    depth: int = 3


def read_records(
    file: InputFile, fmt: str, wanted: Callable[[XmlRoot], Wanted]
) -> Iterator[Record]:
    """The records of the file (module docstring): `wanted(root)` is called with the root
    element before any record (it raises to refuse the file) and says what to keep;
    `InputFileError` for a broken file, naming its line."""
    peek = _Root()
    parser: etree.XMLPullParser | None = None
    spec: Wanted | None = None
    pending: list[str] = []  # the blocks before the root's start tag
    first, block = 1, ""
    try:
        for block in file.blocks():
            first = file.lines_read + 1 - block.count("\n")
            if parser is None:
                peek.parser.Parse(block, False)
                pending.append(block)
                if not peek.seen:
                    continue
                spec = wanted(peek.root)
                parser = _parser(spec)
                for text in pending:
                    parser.feed(text)
                pending.clear()
            else:
                parser.feed(block)
            assert spec is not None
            yield from _records(parser.read_events(), spec)
        if parser is None:  # no root element: expat says why
            peek.parser.Parse("", True)
            spec = wanted(peek.root)
            parser = _parser(spec)
            for text in pending:
                parser.feed(text)
        assert spec is not None
        parser.close()
        yield from _records(parser.read_events(), spec)
    except DamagedFileError as e:
        raise InputFileError(f"{e}: nothing was imported") from None
    except xml.parsers.expat.ExpatError as e:
        message = xml.parsers.expat.errors.messages.get(e.code, str(e))
        problem = f"not well-formed XML ({message}, column {e.offset + 1})"
        raise refused(file, e.lineno, problem, fmt) from None
    except etree.XMLSyntaxError as e:
        line, column = e.position if e.position else (e.lineno or first, 0)
        message = (e.msg or "").split(", line ")[0].strip() or "a syntax error"
        problem = f"not well-formed XML ({message}, column {column})"
        raise refused(file, line or first, problem, fmt) from None
    except UnicodeEncodeError:
        raise _undecodable(file, block, first) from None


def _parser(spec: Wanted) -> etree.XMLPullParser:
    return etree.XMLPullParser(
        events=("end",), tag=sorted(spec.records), resolve_entities=False, no_network=True,
        huge_tree=True, remove_comments=True, remove_pis=True,
    )  # fmt: skip


def _records(events: Iterator[tuple[str, etree._Element]], spec: Wanted) -> Iterator[Record]:
    texts, children, wanted, depth = spec.texts, spec.children, spec.fields, spec.depth
    for _event, element in events:
        up, level = element, 1
        while (up := up.getparent()) is not None:
            level += 1
        if level != depth:
            continue  # a record's name nested deeper (an item's <link>): its field
        name = element.tag
        record = Record(name, element.sourceline or 0)
        fields = record.fields
        if name in texts:
            fields[name] = _text(element)
        else:
            for child in element:
                tag = child.tag
                if tag in children:
                    sub = Record(tag, child.sourceline or 0)
                    record.children.append(sub)
                    _fields(child, wanted, sub.fields)
                elif tag in wanted and tag not in fields:
                    fields[tag] = _text(child)
        element.clear(keep_tail=False)
        parent = element.getparent()
        if parent is not None:  # let go of the records handed out before this one
            while element.getprevious() is not None:
                del parent[0]
        yield record


def _fields(element: etree._Element, wanted: frozenset[str], into: dict[str, str]) -> None:
    """The text of each wanted child of `element` (the first of each name) into `into`."""
    for child in element:
        tag = child.tag
        if tag in wanted and tag not in into:
            text = child.text
            if len(child):  # markup inside the field: all of its text
                text = "".join(child.itertext())
            into[tag] = text.strip() if text else ""
