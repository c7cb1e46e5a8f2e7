"""Temporal edge lists (SNAP, KONECT): one interaction per line, `A B [weight] time [type]`.

An edge A -> B means A acted toward B. With `--org NODE`, an edge to NODE is inbound from
A, an edge from NODE is a give to B, any other edge is a peer activity of A toward B.
Plain or gzip; `%` and `#` lines are comments; fields split on any whitespace.

Columns (`--columns`, default detected from the first data line):
`src,dst,weight,time` for four numeric fields; `src,dst,time,type` when the last field is
not numeric (higgs: `RT`, `MT`, `RE`); `src,dst,time` for three fields whose third looks
like a unix time. `--verb-map RT=share,MT=mention` maps the type column onto verbs; edges
without a type are `interact` (a setting).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import ClassVar

from karmabank.bounds import parse_weight
from karmabank.errors import ConfigError, IdentityError
from karmabank.identities import normalize_identity
from karmabank.model import IdentityKey, check_verb, normalize_verb
from karmabank.sources.base import (
    BadRow,
    InputFile,
    ParsedRow,
    RowKeys,
    SkippedRow,
    SourceItem,
    check_options,
    parse_mapping,
    parse_time,
)

COLUMN_NAMES = frozenset({"src", "dst", "weight", "time", "type", "skip"})
DEFAULT_VERB = "interact"


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def detect_columns(fields: list[str]) -> list[str]:
    """Guess the columns from the first data line (see the module docstring)."""
    n = len(fields)
    if n >= 4:
        if not _is_number(fields[3]):
            return ["src", "dst", "time", "type"] + ["skip"] * (n - 4)
        return ["src", "dst", "weight", "time"] + ["skip"] * (n - 4)
    if n == 3:
        if _is_number(fields[2]) and float(fields[2]) >= 1e8:
            return ["src", "dst", "time"]
        raise ConfigError(
            "the third column does not look like a unix time (this may be a static network "
            "with weights): karmabank needs when each interaction happened; "
            "name the columns with --columns"
        )
    raise ConfigError(
        f"an edge list needs at least src, dst and time, but the first data line has {n} "
        "field(s); name the columns with --columns"
    )


class _Layout:
    """Where each named column sits in a line."""

    def __init__(self, columns: list[str]) -> None:
        def at(name: str) -> int:
            return columns.index(name) if name in columns else -1

        self.indexes = (len(columns), at("src"), at("dst"), at("time"), at("weight"), at("type"))


class EdgeListSource:
    name: ClassVar[str] = "edgelist"
    description: ClassVar[str] = "temporal edge lists (SNAP, KONECT), plain or .gz"
    option_names: ClassVar[frozenset[str]] = frozenset({"org", "columns", "verb_map", "platform"})

    def __init__(self, options: Mapping[str, str]) -> None:
        check_options(self.name, options, self.option_names)
        self.platform = options.get("platform", "other").strip().lower()
        try:
            normalize_identity(self.platform, "x")
        except IdentityError as e:
            raise ConfigError(f"--platform: {e}") from None
        self.columns: list[str] | None = None
        if "columns" in options:
            self.columns = [c.strip().lower() for c in options["columns"].split(",")]
            unknown = [c for c in self.columns if c not in COLUMN_NAMES]
            if unknown or not {"src", "dst", "time"} <= set(self.columns):
                raise ConfigError(
                    f"--columns {options['columns']!r}: use src, dst, time and optionally "
                    "weight, type (verb) and skip, separated by commas"
                )
        try:
            self.verb_map = parse_mapping(options.get("verb_map", ""), "--verb-map")
        except ValueError as e:
            raise ConfigError(str(e)) from None
        try:  # a mistyped verb is refused before any row is read
            for verb in self.verb_map.values():
                check_verb(verb)
        except ValueError as e:
            raise ConfigError(f"--verb-map: {e}") from None
        self.org = options["org"].strip() if options.get("org") else None
        self._fast_keys = self.platform in ("other", "event")

    def organization_identities(self) -> list[IdentityKey]:
        return [self._identity(self.org)] if self.org is not None else []

    def _identity(self, node: str) -> IdentityKey:
        if self._fast_keys:
            return IdentityKey(self.platform, node)
        return normalize_identity(self.platform, node)

    def read(self, file: InputFile) -> Iterator[SourceItem]:
        layout: _Layout | None = None
        ncols = isrc = idst = itime = iweight = itype = -1
        keys = RowKeys("edge")
        platform, org, verb_map = self.platform, self.org, self.verb_map
        verbs: dict[str, str] = {}
        identities: dict[str, IdentityKey] = {}
        lineno = 0
        for raw in file.text:
            lineno += 1
            line = raw.strip()
            if not line or line[0] in "%#":
                continue
            fields = line.split()
            if layout is None:
                layout = _Layout(self.columns or detect_columns(fields))
                ncols, isrc, idst, itime, iweight, itype = layout.indexes
            if len(fields) != ncols:
                yield BadRow(lineno, line, f"expected {ncols} columns, found {len(fields)}")
                continue
            src, dst = fields[isrc], fields[idst]
            if src == dst:
                yield SkippedRow(lineno, "self-loop")
                continue
            try:
                at = parse_time(fields[itime])
            except ValueError as e:
                yield BadRow(lineno, line, str(e))
                continue
            weight: float | None = None
            if iweight >= 0:
                try:
                    weight = parse_weight(fields[iweight])
                except ValueError as e:
                    yield BadRow(lineno, line, str(e))
                    continue
            if itype >= 0:
                t = fields[itype]
                verb = verbs.get(t) or verbs.setdefault(t, normalize_verb(verb_map.get(t, t)))
            else:
                verb = DEFAULT_VERB
            try:
                a = identities.get(src) or self._identity(src)
                b = identities.get(dst) or self._identity(dst)
            except IdentityError as e:
                yield BadRow(lineno, line, str(e))
                continue
            if len(identities) > 200_000:
                identities.clear()
            identities[src], identities[dst] = a, b
            key = keys.key(at, platform, src, dst, verb, "" if weight is None else repr(weight))
            if dst == org:
                yield ParsedRow(lineno, key, at, a, verb, "in", platform, weight=weight)
            elif src == org:
                yield ParsedRow(lineno, key, at, b, verb, "give", platform, weight=weight)
            else:
                yield ParsedRow(lineno, key, at, a, verb, "peer", platform, target=b, weight=weight)
