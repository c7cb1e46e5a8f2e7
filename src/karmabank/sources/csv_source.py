"""CSV files with a header row: one activity per row.

Required columns: `occurred_at` (ISO-8601 or unix seconds), `person` (an identity
`platform:key`; a bare email is an email), `verb`, `direction` (`in`, `give`, `ask`, `peer`).
Optional: `name`, `channel` (default: the person's platform), `object`, `text`, `target` (an
identity; required for `peer`), `weight`, `source_key` (default: a digest of the normalized
row), `followers` (the person's audience on that platform: feeds reach), `also` (other
identities of the same person as the file states them, space-separated, each written as
`person` is: a profile's links, a comment's email and website; see `ParsedRow.also`). `--map
"When=occurred_at,Email=person"` renames the file's columns onto these fields.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from typing import ClassVar

from karmabank.bounds import parse_count, parse_weight
from karmabank.errors import ConfigError, IdentityError, InputFileError
from karmabank.identities import parse_identity
from karmabank.model import Direction, IdentityKey, normalize_verb
from karmabank.sources.base import (
    BadRow,
    InputFile,
    ParsedRow,
    RowKeys,
    SourceItem,
    check_options,
    parse_mapping,
    parse_time,
)
from karmabank.sources.input_file import printable
from karmabank.sources.presets import INDEX as PRESET_INDEX
from karmabank.sources.presets import Preset, Row, audience_emails
from karmabank.sources.sniff import wrong_format

REQUIRED = ("occurred_at", "person", "verb", "direction")
OPTIONAL = (
    "name", "channel", "object", "text", "target", "weight", "source_key", "followers", "also",
)  # fmt: skip
MAX_ALSO = 16  # identities in one row's `also`: a profile lists a few links, not a directory
FIELDS = frozenset(REQUIRED + OPTIONAL)
DIRECTIONS = frozenset(d.value for d in Direction)

csv.field_size_limit(16 * 1024 * 1024)


UNBALANCED_QUOTE = (
    "unbalanced quote: a quoted field opened on this line does not close where a field can "
    "end, so it would swallow the rows after it (they are read on their own)"
)
MAX_RECORD_LINES = 10_000  # a quoted field spanning more lines is taken for an unbalanced quote


class _Runaway(Exception):
    """A record that spans more than MAX_RECORD_LINES lines."""

    def __str__(self) -> str:
        return f"a quoted field spans more than {MAX_RECORD_LINES:,} lines"


class _Records:
    """The lines csv.reader reads, with those of the record being read kept, so a record an
    unbalanced quote ran away with can be read again from its second line."""

    def __init__(self, lines: Iterator[str]) -> None:
        self._lines = lines
        self._again: list[str] = []  # lines to hand out again, the next one last
        self.lines: list[str] = []  # the lines of the record being read
        self.start = 1  # the number of its first line

    def __iter__(self) -> _Records:
        return self

    def __next__(self) -> str:
        line = self._again.pop() if self._again else next(self._lines)
        self.lines.append(line)
        if len(self.lines) > MAX_RECORD_LINES:
            raise _Runaway
        return line

    def next_record(self) -> None:
        self.start += len(self.lines)
        self.lines = []

    def delimiter(self) -> str:
        """The delimiter of the header line (`,`, `;` or a tab), the line kept to be read."""
        line = next(self._lines, "")
        if line:
            self._again.append(line)
        return max(",;\t", key=line.count)

    def reread_after_first(self) -> None:
        self._again.extend(reversed(self.lines[1:]))
        self.start += 1
        self.lines = []


def _holds_rows(lines: list[str], width: int) -> bool:
    """Whether one of `lines`, read on its own, is a row of `width` fields."""
    for line in lines:
        try:
            if len(next(csv.reader([line]), [])) == width:
                return True
        except csv.Error:
            continue
    return False


def _raw(fields: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(fields)
    return out.getvalue()


class CsvSource:
    name: ClassVar[str] = "csv"
    description: ClassVar[str] = "CSV with a header row (occurred_at, person, verb, direction, ...)"
    option_names: ClassVar[frozenset[str]] = frozenset({"map", "preset", "audience"})

    def __init__(self, options: Mapping[str, str]) -> None:
        check_options(self.name, options, self.option_names)
        try:
            self.renames = parse_mapping(options.get("map", ""), "--map")
        except ValueError as e:
            raise ConfigError(str(e)) from None
        # a platform's export through a preset (karmabank.sources.presets): --map then renames
        # the file's columns onto the preset's
        self.preset = Preset.load(options["preset"]) if "preset" in options else None
        if "audience" in options and self.preset is None:
            raise ConfigError("--audience goes with a --preset (mailchimp-activity)")
        self.audience = audience_emails(options.get("audience", ""))
        bad = [] if self.preset else sorted(set(self.renames.values()) - FIELDS)
        if bad:
            raise ConfigError(
                f"--map: unknown field(s) {', '.join(bad)}; fields are {', '.join(sorted(FIELDS))}"
            )

    def organization_identities(self) -> list[IdentityKey]:
        return []

    def _header(self, file: InputFile, header: list[str]) -> dict[str, int]:
        index: dict[str, int] = {}
        for i, column in enumerate(header):
            field = self.renames.get(column.strip(), column.strip().lower())
            if field in FIELDS and field not in index:
                index[field] = i
        missing = [f for f in REQUIRED if f not in index]
        if missing:
            raise wrong_format(  # "...; this looks like a Mailchimp audience export: use ..."
                file, self.name,
                f"missing required column(s) {', '.join(missing)} "
                f"(found: {printable(', '.join(h.strip() for h in header), 200) or 'nothing'}); "
                "rename columns with --map column=field",
            )  # fmt: skip
        return index

    def read(self, file: InputFile) -> Iterator[SourceItem]:
        records = _Records(file.text)
        delimiter = records.delimiter() if self.preset else ","  # exports may use ; or tabs
        reader = csv.reader(records, strict=True, delimiter=delimiter)
        try:
            header = next(reader)
        except StopIteration:
            raise InputFileError(f"{file.display}: empty file, expected a header row") from None
        except (csv.Error, _Runaway) as e:
            raise InputFileError(f"{file.display}: unreadable header: {e}") from None
        if header and header[0].startswith("\ufeff"):
            header[0] = header[0][1:]
        preset = self.preset
        rows: list[Row | None] = [None]  # None: the row as the CSV importer reads it
        if preset is not None:
            rows = list(preset.rows(file, header, self.renames, self.audience))
        index = PRESET_INDEX if preset else self._header(file, header)
        width = len(header)
        keys = RowKeys("csv")
        records.next_record()
        while True:
            error: Exception | None = None
            try:
                fields = next(reader)
            except StopIteration:
                return
            except (csv.Error, _Runaway) as e:
                fields, error = [], e
            start, lines = records.start, records.lines
            if error is None and (not fields or (len(fields) == 1 and not fields[0].strip())):
                records.next_record()
                continue
            if error is not None or len(fields) != width:
                if len(lines) > 1 and _holds_rows(lines[1:], width):
                    # a quote opened on the first line swallowed the rows after it
                    records.reread_after_first()
                    yield BadRow(start, lines[0].rstrip("\r\n"), UNBALANCED_QUOTE)
                    continue
                records.next_record()
                if error is not None:
                    raw = "".join(lines).rstrip("\r\n")
                    yield BadRow(start, raw, f"malformed CSV: {error}")
                else:
                    reason = f"expected {width} columns, found {len(fields)}"
                    yield BadRow(start, _raw(fields), reason)
                continue
            records.next_record()
            for row in rows:
                try:
                    item = fields if row is None else row(start, fields)
                    if isinstance(item, list):
                        yield self._row(start, item, index, keys)
                    elif item is not None:
                        yield item
                except (ValueError, IdentityError) as e:
                    yield BadRow(start, _raw(fields), str(e))

    def _row(self, line: int, fields: list[str], index: dict[str, int], keys: RowKeys) -> ParsedRow:
        def get(field: str) -> str | None:
            i = index.get(field)
            if i is None:
                return None
            v = fields[i].strip()
            return v or None

        when = get("occurred_at")
        if when is None:
            raise ValueError("missing occurred_at")
        at = parse_time(when)
        who = get("person")
        if who is None:
            raise ValueError("missing person")
        try:
            person = parse_identity(who)
        except IdentityError as e:
            raise ValueError(f"person: {e}") from None
        direction = (get("direction") or "").lower()
        if direction not in DIRECTIONS:
            raise ValueError(
                f"unknown direction {get('direction') or ''!r} (use in, give, ask or peer)"
            )
        verb_text = get("verb")
        if verb_text is None:
            raise ValueError("missing verb")
        verb = normalize_verb(verb_text)
        target_text = get("target")
        target = None
        if target_text is not None:
            try:
                target = parse_identity(target_text)
            except IdentityError as e:
                raise ValueError(f"target: {e}") from None
        if direction == "peer" and target is None:
            raise ValueError("a peer activity needs a target")
        if target == person:
            raise ValueError("target is the person themself")
        weight_text = get("weight")
        weight = None if weight_text is None else parse_weight(weight_text)
        followers_text = get("followers")
        followers = None if followers_text is None else parse_count(followers_text, "followers")
        also = _also(get("also"), person)
        channel = (get("channel") or person.platform).lower()
        obj, text = get("object"), get("text")
        key = get("source_key") or keys.key(
            at, str(person), verb, direction, channel, obj or "", text or "",
            str(target or ""), "" if weight is None else repr(weight),
        )  # fmt: skip
        return ParsedRow(
            line, key, at, person, verb, direction, channel,
            object=obj, text=text, target=target, weight=weight, name=get("name"),
            followers=followers, also=also,
        )  # fmt: skip


def _also(text: str | None, person: IdentityKey) -> tuple[IdentityKey, ...]:
    """The `also` column's identities (space-separated), each once and not the person's own;
    one that does not parse makes the row bad (ValueError naming it)."""
    if text is None:
        return ()
    found: dict[IdentityKey, None] = {}
    for word in text.split():
        try:
            key = parse_identity(word)
        except IdentityError as e:
            raise ValueError(f"also: {e}") from None
        if key != person:
            found[key] = None
    if len(found) > MAX_ALSO:
        raise ValueError(f"also: {len(found)} identities, at most {MAX_ALSO} in one row")
    return tuple(found)
