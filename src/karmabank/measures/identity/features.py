"""From persons with their identities to the columns the linkage model compares (issue 15).

Pure: Arrow in, Arrow out. The input (`PERSONS_SCHEMA`) is one row per person: its id, its name,
the names seen on its identities (`names`, the same or empty when there is only one), its flags
and its identities as (platform, key) structs, normalized as `karmabank.identities` does. The
output adds the forms `names.py` makes: the folded name in parts, the handles (stems of the
handles and email local parts), the handles the name is often turned into (`name_forms`), the
domains the identities prove, and the platforms held.
"""

from __future__ import annotations

import pyarrow as pa

from karmabank.measures.identity.names import (
    NameParts,
    handle_root,
    identity_domains,
    identity_handles,
    name_forms,
)

IDENTITY = pa.struct([("platform", pa.string()), ("key", pa.string())])
PERSONS_SCHEMA = pa.schema([
    ("id", pa.int64()), ("name", pa.string()), ("names", pa.list_(pa.string())),
    ("bot", pa.bool_()), ("team", pa.bool_()), ("identities", pa.list_(IDENTITY)),
])  # fmt: skip
_TEXT = pa.list_(pa.string())
FEATURES_SCHEMA = pa.schema([
    ("unique_id", pa.int64()), ("name_raw", pa.string()), ("name_full", pa.string()),
    ("first", pa.string()), ("last", pa.string()), ("initial", pa.string()),
    ("handles", _TEXT), ("rare_handles", _TEXT), ("handle_roots", _TEXT),
    ("name_forms", _TEXT), ("rare_forms", _TEXT), ("link_keys", _TEXT), ("domains", _TEXT),
    ("rare_domains", _TEXT),
    ("platforms", _TEXT), ("bot", pa.bool_()), ("team", pa.bool_()),
])  # fmt: skip
# platforms on which two persons each holding an identity is a conflict (review only); a person
# has many web pages, and event/other keys are a source's own ids
ONE_PER_PERSON = frozenset({"email", "mastodon", "github", "bluesky", "x", "linkedin", "phone"})


# a handle or a name at most this many persons hold is "no one else's" (one human may well be
# four persons before their merge)
RARE_HANDLE = 4
_DIGITS = "0123456789"


def persons_table(rows: list[dict[str, object]]) -> pa.Table:
    """Persons as `PERSONS_SCHEMA` from dicts with its column names (identities as pairs)."""
    cols: dict[str, list[object]] = {f.name: [] for f in PERSONS_SCHEMA}
    for r in rows:
        for f in PERSONS_SCHEMA:
            v = r.get(f.name)
            if f.name == "identities":
                v = [{"platform": p, "key": k} for p, k in v]  # type: ignore[attr-defined]
            elif f.name == "names" and v is None:
                v = []
            cols[f.name].append(v)
    return pa.table(cols, schema=PERSONS_SCHEMA)


def features(persons: pa.Table) -> pa.Table:
    """One row of compared forms per person (`FEATURES_SCHEMA`)."""
    out: dict[str, list[object]] = {f.name: [] for f in FEATURES_SCHEMA}
    handles: list[list[str]] = []
    forms: list[list[str]] = []
    fulls: list[str | None] = []
    given: list[set[str | None]] = []  # a given name and digits (`anais83`) is no one's own
    cols = [persons.column(c).to_pylist() for c in ("id", "name", "bot", "team", "identities")]
    named: dict[str | None, tuple[NameParts, list[str]]] = {}  # names repeat: each made once
    for pid, name, bot, team, idents in zip(*cols, strict=True):
        if name not in named:
            named[name] = (NameParts(name), sorted(name_forms(name)))
        parts, name_form_list = named[name]
        mine: dict[str, None] = {}
        domains: dict[str, None] = {}
        platforms: dict[str, None] = {}
        for ident in idents:
            platform, key = ident["platform"], ident["key"]
            mine.update(dict.fromkeys(identity_handles(platform, key)))
            domains.update(dict.fromkeys(identity_domains(platform, key)))
            if platform in ONE_PER_PERSON:
                platforms[platform] = None
        handles.append(list(mine))
        forms.append(name_form_list)
        fulls.append(parts.full)
        given.append({parts.given, parts.first})
        row = {
            "unique_id": pid, "name_raw": parts.raw if parts.full else None,
            "name_full": parts.full, "first": parts.first, "last": parts.last,
            "initial": parts.initial, "link_keys": sorted(set(mine) | set(forms[-1])),
            "domains": list(domains), "platforms": list(platforms), "bot": bool(bot),
            "team": bool(team),
        }  # fmt: skip
        for k, v in row.items():
            out[k].append(v)
    out["handles"], out["name_forms"] = list(handles), list(forms)
    rare, roots, rare_forms = _rare(handles, forms, fulls, given)
    out["rare_handles"], out["handle_roots"], out["rare_forms"] = rare, roots, rare_forms
    out["rare_domains"] = _rare_values(out["domains"])  # type: ignore[arg-type]
    return pa.table(out, schema=FEATURES_SCHEMA)


def _rare_values(values: list[list[str]]) -> list[object]:
    """Of each row's values, those at most `RARE_HANDLE` rows hold."""
    held: dict[str, int] = {}
    for vs in values:
        for v in vs:
            held[v] = held.get(v, 0) + 1
    return [[v for v in vs if held[v] <= RARE_HANDLE] for vs in values]


def _rare(
    handles: list[list[str]],
    forms: list[list[str]],
    fulls: list[str | None],
    given: list[set[str | None]],
) -> tuple[list[object], list[object], list[object]]:
    """Term frequencies over the whole table: the handles and name forms no one else has (at
    most `RARE_HANDLE` persons hold them), and the handles' roots that are not a given name."""
    held: dict[str, int] = {}
    for hs in handles:
        for h in hs:
            held[h] = held.get(h, 0) + 1
    named: dict[str, int] = {}
    for full in fulls:
        if full is not None:
            named[full] = named.get(full, 0) + 1
    rare: list[object] = []
    roots: list[object] = []
    rare_forms: list[object] = []
    for hs, fs, full, own in zip(handles, forms, fulls, given, strict=True):
        rare.append([h for h in hs if held[h] <= RARE_HANDLE and h.rstrip(_DIGITS) not in own])
        roots.append(sorted({r for h in hs if (r := handle_root(h)) and r not in own | set(fs)}))
        rare_forms.append(fs if full is None or named[full] <= RARE_HANDLE else [])
    return rare, roots, rare_forms


def several_names(persons: pa.Table) -> list[tuple[int, list[str]]]:
    """Persons whose one identity several people sign (a shared mailbox): the names seen on it
    that are not one name written differently (folded, nickname, initial)."""
    found = []
    for pid, names in zip(
        persons.column("id").to_pylist(), persons.column("names").to_pylist(), strict=True
    ):
        distinct: dict[tuple[str | None, str | None], str] = {}
        for name in names or []:
            parts = NameParts(name)
            if parts.first is None:
                continue
            if not any(_same_name(parts, other) for other in distinct):
                distinct[(parts.first, parts.last)] = name
        if len(distinct) > 1:
            found.append((pid, list(distinct.values())))
    return found


def _same_name(parts: NameParts, other: tuple[str | None, str | None]) -> bool:
    first, last = other
    if parts.last and last and parts.last != last:
        return False
    if first is None or parts.first is None:
        return True
    return (
        parts.first == first
        or (len(first) == 1 or len(parts.first) == 1)
        and (first[0] == parts.first[0])
    )
