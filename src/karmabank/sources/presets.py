"""CSV presets: `karmabank import csv FILE --preset NAME` reads a platform's own export (a
Mailchimp audience, an Eventbrite attendee report, a Stripe payments export, ...) through a
declarative mapping, one small TOML file per preset in `karmabank/sources/presets/`.

A preset is meant to be copied and adapted: `--preset PATH` takes a copied file, and `--map
"Their column=Preset column"` renames a file's columns onto the names the preset reads (a
localized export's headers). A preset file holds (every key but `fields` optional):

- `description`, `requires` (columns a file must have: else an error naming the format the file
  looks like), `time` (columns tried in order, the first non-empty is when) and `time_formats`
  (`strptime` formats tried in order, then ISO-8601; a time without a zone is UTC).
- `fields`: each of the CSV importer's fields (`person`, `name`, `verb`, `direction`,
  `channel`, `object`, `text`, `target`, `also`, `weight`, `followers`) as a template: text with
  `{Column}` replaced by the row's value (`"{First Name} {Last Name}"`), empty when every column
  it names is empty; a list of templates takes the first that is not empty.
- `key`: columns whose values (all present) make the row's `source_key`, prefixed with the
  preset's name; else the CSV importer's digest of the normalized row.
- `[[skip]]` (`column`, `values`, `reason`): rows skipped with the reason. `[[verbs]]`
  (`column`, `values`, `verb`, `weight`): the first rule whose column holds one of its values
  sets the verb (and the weight, if it says; values compared case-insensitively); with rules
  and none matching, the row is skipped (`unmatched` the reason). `only` (`column`, `values`,
  `reason`): rows whose column holds none of the values are skipped.
- `opt_out` (`columns`, `channel`): a file with one of those columns (Mailchimp's
  unsubscribed and cleaned exports have `UNSUB_TIME` or `CLEAN_TIME`) is a file of opt-outs:
  each row an `OptOutRow` for the channel, not an activity.
- `[[extra]]` (`when`: a column, `fields`, `key_suffix`, `time`): a second row from the same
  line when the column is not empty (a CiviCRM soft credit: a peer `introduce` edge).
- `email_md5` (a template): when `person` is empty, the person is the email whose MD5 this is,
  looked up in the audience files given with `--audience FILE` (Mailchimp's `member_id`, the
  MD5 of the lower-cased email); a digest found in none is quarantined.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from karmabank.errors import ConfigError, IdentityError, InputFileError
from karmabank.identities import parse_identity
from karmabank.settings import parse_toml
from karmabank.sources.base import InputFile, OptOutRow, SkippedRow, SourceItem, parse_time
from karmabank.sources.sniff import wrong_format

FIELDS = ("occurred_at", "person", "verb", "direction", "name", "channel", "object", "text",
          "target", "weight", "source_key", "followers", "also")  # fmt: skip
INDEX = {f: i for i, f in enumerate(FIELDS)}
_COLUMN = re.compile(r"\{([^{}]+)\}")
MAX_AUDIENCE = 10_000_000  # emails read from --audience files (a digest each)
Row = Callable[[int, list[str]], list[str] | SourceItem | None]


def names() -> list[str]:
    """The built-in presets."""
    folder = resources.files("karmabank.sources") / "presets"
    return sorted(p.name.removesuffix(".toml") for p in folder.iterdir()
                  if p.name.endswith(".toml"))  # fmt: skip


def _lower(values: object, what: str) -> frozenset[str]:
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise ConfigError(f"{what}: expected a list of strings")
    return frozenset(v.strip().lower() for v in values)


@dataclass(frozen=True)
class Rule:
    column: str
    values: frozenset[str]
    outcome: str  # a verb (for `verbs`) or a reason (for `skip` and `only`)
    weight: str = ""  # for `verbs`: the row's weight (e.g. a weak signal: an email opened)

    @classmethod
    def of(cls, table: object, outcome: str, what: str) -> Rule:
        if not isinstance(table, dict) or not isinstance(table.get("column"), str):
            raise ConfigError(f"{what}: expected a table with `column` and `values`")
        value = table.get(outcome)
        if not isinstance(value, str):
            raise ConfigError(f"{what}: expected `{outcome}`")
        weight = table.get("weight", "")
        if not isinstance(weight, int | float | str) or isinstance(weight, bool):
            raise ConfigError(f"{what}: `weight` is a number")
        return cls(table["column"], _lower(table.get("values"), what), value, str(weight))


@dataclass(frozen=True)
class Template:
    options: tuple[str, ...]

    @classmethod
    def of(cls, value: object, what: str) -> Template:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{what}: expected a template or a list of templates")
        return cls(tuple(value))

    def fill(self, get: Callable[[str], str]) -> str:
        for option in self.options:
            columns = _COLUMN.findall(option)
            if columns and not any(get(c) for c in columns):
                continue
            text = " ".join(_COLUMN.sub(lambda m: get(m.group(1)), option).split())
            if text:
                return text
        return ""


def _fields(table: object, what: str) -> dict[str, Template]:
    if not isinstance(table, dict):
        raise ConfigError(f"{what}: expected a table of field = template")
    bad = sorted(set(table) - set(FIELDS) - {"occurred_at", "source_key"})
    if bad or "occurred_at" in table or "source_key" in table:
        raise ConfigError(f"{what}: not a field: {', '.join(bad) or 'occurred_at/source_key'}")
    return {k: Template.of(v, f"{what}.{k}") for k, v in table.items()}


@dataclass(frozen=True)
class Extra:
    when: str
    fields: dict[str, Template]
    key_suffix: str
    time: tuple[str, ...] = ()  # columns of its time, if not the main row's


@dataclass(frozen=True)
class Preset:
    name: str
    description: str
    fields: dict[str, Template]
    requires: tuple[str, ...] = ()
    time: tuple[str, ...] = ()
    time_formats: tuple[str, ...] = ()
    key: tuple[str, ...] = ()
    skip: tuple[Rule, ...] = ()
    verbs: tuple[Rule, ...] = ()
    unmatched: str = "no rule of the preset gives it a verb"
    only: Rule | None = None
    opt_out_columns: tuple[str, ...] = ()
    opt_out_channel: str = "email"
    extra: tuple[Extra, ...] = ()
    email_md5: Template | None = None
    builtin: bool = field(default=True, compare=False)

    @classmethod
    def load(cls, name: str) -> Preset:
        """A built-in preset by name, or a preset file by path (`--preset ./mine.toml`)."""
        path = Path(name)
        builtin = not (name.endswith(".toml") or "/" in name or path.is_file())
        if builtin:
            file = resources.files("karmabank.sources") / "presets" / f"{name}.toml"
            if not file.is_file():
                raise ConfigError(f"--preset: no preset {name!r} (presets: {', '.join(names())})")
            text, label = file.read_text(encoding="utf-8"), name
        else:
            try:
                text = path.read_text(encoding="utf-8-sig")
            except (OSError, UnicodeError) as e:
                raise ConfigError(f"--preset: cannot read {name}: {e}") from None
            label = path.stem
        data = parse_toml(text, f"--preset {name}")
        try:
            return cls._of(label, data, builtin)
        except ConfigError as e:
            raise ConfigError(f"--preset {name}: {e}") from None

    @classmethod
    def _of(cls, name: str, data: dict[str, Any], builtin: bool) -> Preset:
        def strings(key: str) -> tuple[str, ...]:
            value = data.get(key, [])
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{key}: expected a list of strings")
            return tuple(value)

        opt_out = data.get("opt_out", {})
        extra = []
        for i, e in enumerate(data.get("extra", [])):
            if not isinstance(e, dict) or not isinstance(e.get("when"), str):
                raise ConfigError(f"extra {i + 1}: expected `when` (a column) and `fields`")
            time = e.get("time", [])
            if not isinstance(time, list) or not all(isinstance(t, str) for t in time):
                raise ConfigError(f"extra {i + 1}: `time` is a list of columns")
            extra.append(Extra(e["when"], _fields(e.get("fields"), f"extra {i + 1} fields"),
                               str(e.get("key_suffix", f"#{i + 1}")), tuple(time)))  # fmt: skip
        only = data.get("only")
        md5 = data.get("email_md5")
        return cls(
            name=name, description=str(data.get("description", "")),
            fields=_fields(data.get("fields"), "fields"), requires=strings("requires"),
            time=strings("time"), time_formats=strings("time_formats"), key=strings("key"),
            skip=tuple(Rule.of(r, "reason", "skip") for r in data.get("skip", [])),
            verbs=tuple(Rule.of(r, "verb", "verbs") for r in data.get("verbs", [])),
            unmatched=str(data.get("unmatched", cls.unmatched)),
            only=None if only is None else Rule.of(only, "reason", "only"),
            opt_out_columns=tuple(opt_out.get("columns", [])),
            opt_out_channel=str(opt_out.get("channel", "email")),
            extra=tuple(extra), email_md5=None if md5 is None else Template.of(md5, "email_md5"),
            builtin=builtin,
        )  # fmt: skip

    def when(self, text: str) -> str:
        """A time as the platform writes it -> ISO-8601 (a time without a zone is UTC)."""
        for fmt in self.time_formats:
            try:
                dt = datetime.strptime(text, fmt)
            except ValueError:
                continue
            return (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).isoformat()
        try:
            parse_time(text)  # ISO-8601 or unix seconds (or out of range: that reason)
        except ValueError as e:
            if not str(e).startswith("unparseable time"):
                raise
            shown = ", ".join(self.time_formats[:4]) + (
                ", ..." if len(self.time_formats) > 4 else ""
            )
            raise ValueError(
                f"unparseable time {text[:40]!r} (the {self.name} preset reads {shown} "
                "or ISO-8601; add the format to a copy of the preset)"
            ) from None
        return text

    def rows(self, file: InputFile, header: list[str], renames: Mapping[str, str],
             audience: Mapping[str, str]) -> Iterator[Row]:  # fmt: skip
        """The functions that turn a line's fields into the CSV importer's fields (or an item:
        skipped, an opt-out): the main row, then each `extra`. Raises for a file without the
        columns the preset requires."""
        columns: dict[str, int] = {}
        for i, h in enumerate(header):
            name = h.strip()
            columns.setdefault(renames.get(name, name).lower(), i)
        missing = [c for c in self.requires if c.lower() not in columns]
        if missing:
            raise wrong_format(
                file, "csv", f"the {self.name} preset needs column(s) {', '.join(missing)}"
                " (rename columns with --map \"Their column=Preset column\")", self.name,
            )  # fmt: skip
        opting_out = any(c.lower() in columns for c in self.opt_out_columns)
        yield lambda line, fields: self._main(line, fields, columns, opting_out, audience)
        for extra in () if opting_out else self.extra:
            yield lambda line, fields, e=extra: self._extra(line, fields, columns, e)  # type: ignore[misc]

    def _getter(self, fields: list[str], columns: dict[str, int]) -> Callable[[str], str]:
        def get(column: str) -> str:
            i = columns.get(column.lower())
            return fields[i].strip() if i is not None and i < len(fields) else ""

        return get

    def _base(self, get: Callable[[str], str], templates: dict[str, Template],
              time: tuple[str, ...] = ()) -> list[str]:  # fmt: skip
        out = [""] * len(FIELDS)
        for name, template in templates.items():
            out[INDEX[name]] = template.fill(get)
        when = next((v for v in map(get, time or self.time) if v), "")
        out[0] = self.when(when) if when else ""
        return out

    def _main(self, line: int, fields: list[str], columns: dict[str, int], opting_out: bool,
              audience: Mapping[str, str]) -> list[str] | SourceItem:  # fmt: skip
        get = self._getter(fields, columns)
        out = self._base(get, self.fields)
        if not out[1] and self.email_md5 is not None:
            out[1] = self._by_digest(self.email_md5.fill(get), audience)
        if opting_out:
            if not out[1]:
                raise ValueError("missing person")
            channel = self.opt_out_channel
            return OptOutRow(line, parse_identity(out[1]), channel, out[4] or None)
        for rule in self.skip:
            if get(rule.column).lower() in rule.values:
                return SkippedRow(line, rule.outcome)
        if self.only is not None and get(self.only.column).lower() not in self.only.values:
            return SkippedRow(line, self.only.outcome)
        if self.verbs:
            found = next((r for r in self.verbs if get(r.column).lower() in r.values), None)
            if found is None:
                return SkippedRow(line, self.unmatched)
            out[2] = found.outcome
            out[9] = found.weight or out[9]
        if self.key and all(get(c) for c in self.key):
            out[10] = f"{self.name}:" + ":".join(get(c) for c in self.key)
        return out

    def _by_digest(self, digest: str, audience: Mapping[str, str]) -> str:
        if not digest:
            return ""
        email = audience.get(digest.strip().lower())
        if email is not None:
            return email
        if not audience:
            raise ValueError(
                f"no email, only the MD5 {digest[:40]!r}: give the audience export with "
                "--audience FILE (its emails' MD5s are looked up)"
            )
        raise ValueError(f"the MD5 {digest[:40]!r} is no email of the audience files")

    def _extra(self, line: int, fields: list[str], columns: dict[str, int],
               extra: Extra) -> list[str] | None:  # fmt: skip
        get = self._getter(fields, columns)
        if not get(extra.when):
            return None  # no extra row
        if self.only is not None and get(self.only.column).lower() not in self.only.values:
            return None
        if any(get(r.column).lower() in r.values for r in self.skip):
            return None
        out = self._base(get, extra.fields, extra.time)
        try:
            parse_identity(out[1])
        except IdentityError as e:
            raise ValueError(f"{extra.when}: {e}") from None  # the main row stands
        if self.key and all(get(c) for c in self.key):
            out[10] = f"{self.name}:" + ":".join(get(c) for c in self.key) + extra.key_suffix
        return out


def audience_emails(paths: str) -> dict[str, str]:
    """MD5 (hex, of the lower-cased email) -> email, from the `Email Address` (or `email`)
    column of each audience export in `paths` (comma-separated)."""
    out: dict[str, str] = {}
    for name in (p.strip() for p in paths.split(",")):
        if not name:
            continue
        try:
            with open(name, encoding="utf-8-sig", newline="") as f:
                sample = f.readline()
                f.seek(0)
                delimiter = max(",;\t", key=sample.count)
                reader = csv.reader(f, delimiter=delimiter)
                header = [h.strip().lower() for h in next(reader, [])]
                column = next((header.index(c) for c in ("email address", "email", "email_address")
                               if c in header), None)  # fmt: skip
                if column is None:
                    raise ConfigError(f"--audience {name}: no `Email Address` column")
                for fields in reader:
                    if column < len(fields) and "@" in fields[column]:
                        email = fields[column].strip().lower()
                        out[hashlib.md5(email.encode(), usedforsecurity=False).hexdigest()] = email
                        if len(out) > MAX_AUDIENCE:
                            raise ConfigError(f"--audience: more than {MAX_AUDIENCE:,} emails")
        except (OSError, UnicodeError, csv.Error) as e:
            raise InputFileError(f"--audience {name}: cannot read it: {e}") from None
    return out
