"""From persons with their identities to the columns the linkage model compares (issue 15).

Pure: Arrow in, Arrow out, column-wise (Arrow compute and SQL on a private DuckDB; no Python
loop per person, so a million persons take seconds). The input (`PERSONS_SCHEMA`) is one row
per person: its id, its name, the names seen on its identities (`names`, the same or empty when
there is only one), its flags and its identities as (platform, key) structs, normalized as
`karmabank.identities` does. The output (`FEATURES_SCHEMA`) adds the forms `names.py` defines
(the same rules, written as SQL: `tests/measures/identity/test_features.py` checks they agree):
the folded name in parts, the handles (stems of the handles and email local parts), the handles
the name is often turned into (`name_forms`), the domains the identities prove, the platforms
held, which of those no one else has (term frequencies over the whole table), and the keys the
pairs are blocked on, without the keys held by more than `max_block` persons.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from karmabank.measures.identity.names import (
    FREE_MAIL_DOMAINS,
    MIN_HANDLE,
    NICKNAMES,
    ROLE_MAILBOXES,
    SPELLED,
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
    ("initial_last", pa.string()),
    ("handles", _TEXT), ("rare_handles", _TEXT), ("handle_roots", _TEXT),
    ("name_forms", _TEXT), ("rare_forms", _TEXT), ("link_keys", _TEXT), ("domains", _TEXT),
    ("rare_domains", _TEXT), ("platforms", _TEXT), ("bot", pa.bool_()), ("team", pa.bool_()),
    ("block_name", pa.string()), ("block_surname", pa.string()), ("block_keys", _TEXT),
    ("block_domains", _TEXT),
])  # fmt: skip
# platforms on which two persons each holding an identity is a conflict (review only); a person
# has many web pages, and event/other keys are a source's own ids
ONE_PER_PERSON = frozenset({"email", "mastodon", "github", "bluesky", "x", "linkedin", "phone"})

# a handle or a name at most this many persons hold is "no one else's" (one human may well be
# four persons before their merge)
RARE_HANDLE = 4
# blocks: a key more persons than this hold pairs no one (`LinkageSettings.max_block`)
MAX_BLOCK = 60


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


def fold_column(text: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    """`names.fold` on a whole column: lower case, NFKD, ł ø ß þ æ œ đ ı spelled out,
    combining marks dropped."""
    out = pc.utf8_normalize(pc.utf8_lower(text), "NFKD")
    for char, spelled in SPELLED.items():
        out = pc.replace_substring(out, char, spelled)
    return pc.replace_substring_regex(out, r"\p{Mn}+", "")


def _sql_list(values: frozenset[str]) -> str:
    return ", ".join(f"'{v}'" for v in sorted(values))


_NICKS = ", ".join(f"('{k}', '{v}')" for k, v in sorted(NICKNAMES.items()))
_ALNUM = r"'[^\p{L}\p{N}]'"
# one person: the name in parts (as `names.NameParts`), from the folded name's words
_NAMES_SQL = f"""
CREATE TEMP TABLE n AS
WITH w AS (
  SELECT id, bot, team, coalesce(list_filter(list_transform(
           string_split_regex(trim(replace(replace(fname, '-', ' '), '.', ' ')), '\\s+'),
           lambda x: regexp_replace(x, {_ALNUM}, '', 'g')), lambda x: x <> ''), []) AS words
  FROM persons)
SELECT id, bot, team, words[1] AS given,
       CASE WHEN len(words) > 0 THEN coalesce(k.canon, words[1]) END AS first,
       left(words[1], 1) AS initial,
       CASE WHEN len(words) > 1 THEN array_to_string(words[2:], '') END AS last,
       CASE WHEN len(words) > 0 THEN array_to_string(words, ' ') END AS name_raw
FROM w LEFT JOIN (VALUES {_NICKS}) k(nick, canon) ON k.nick = w.words[1]
"""
# the handles a name is often turned into (`names.name_forms`)
_FORMS = f"""
CASE WHEN given IS NULL THEN []
     WHEN last IS NULL THEN list_filter(list_distinct([given, first]),
                                        lambda f: length(f) >= {MIN_HANDLE + 2})
     ELSE list_filter(list_distinct(flatten(list_transform(list_distinct([given, first]),
       lambda f: CASE WHEN length(f) > 1
                 THEN [left(f, 1) || last, last || left(f, 1), f || last, last || f,
                       f || left(last, 1)]
                 ELSE [left(f, 1) || last, last || left(f, 1)] END))),
       lambda x: length(x) >= {MIN_HANDLE}) END
"""
# one identity: its handle (`names.identity_handles`) and domain (`names.identity_domains`)
_LOCAL = "split_part(split_part(fkey, '@', 1), '+', 1)"
_IDENTITIES_SQL = f"""
CREATE TEMP TABLE ih AS
WITH h AS (
  SELECT person, platform, key,
    CASE platform
      WHEN 'email' THEN CASE WHEN {_LOCAL} NOT IN ({_sql_list(ROLE_MAILBOXES)}) THEN {_LOCAL} END
      WHEN 'mastodon' THEN split_part(ltrim(fkey, '@'), '@', 1)
      WHEN 'bluesky' THEN CASE WHEN NOT starts_with(fkey, 'did:')
                                AND ends_with(fkey, '.bsky.social')
                               THEN left(fkey, length(fkey) - 12) END
      WHEN 'github' THEN fkey WHEN 'x' THEN fkey WHEN 'linkedin' THEN fkey
    END AS handle,
    CASE platform
      WHEN 'web' THEN split_part(split_part(CASE WHEN strpos(key, '://') > 0
        THEN substr(key, strpos(key, '://') + 3) ELSE key END, '/', 1), ':', 1)
      WHEN 'bluesky' THEN CASE WHEN NOT starts_with(key, 'did:')
                                AND NOT ends_with(key, '.bsky.social') THEN key END
      WHEN 'email' THEN CASE WHEN string_split(key, '@')[-1] NOT IN
                               ({_sql_list(FREE_MAIL_DOMAINS)})
                             THEN string_split(key, '@')[-1] END
    END AS host
  FROM idents)
SELECT person, platform,
       CASE WHEN length(regexp_replace(handle, {_ALNUM}, '', 'g')) >= {MIN_HANDLE}
            THEN regexp_replace(handle, {_ALNUM}, '', 'g') END AS stem,
       nullif(CASE WHEN starts_with(host, 'www.') THEN substr(host, 5) ELSE host END,
              '') AS domain
FROM h
"""
_FEATURES_SQL = f"""
WITH held AS (SELECT stem, count(DISTINCT person) AS c FROM ih WHERE stem IS NOT NULL
              GROUP BY stem),
     dheld AS (SELECT domain, count(DISTINCT person) AS c FROM ih WHERE domain IS NOT NULL
               GROUP BY domain),
     mine AS (
       SELECT i.person,
              list_distinct(list(i.stem) FILTER (WHERE i.stem IS NOT NULL)) AS handles,
              list_distinct(list(i.stem) FILTER (WHERE h.c <= {RARE_HANDLE})) AS rare_stems,
              list_distinct(list(i.stem) FILTER (WHERE h.c <= $max_block)) AS block_stems,
              list_distinct(list(i.domain) FILTER (WHERE i.domain IS NOT NULL)) AS domains,
              list_distinct(list(i.domain) FILTER (WHERE d.c <= {RARE_HANDLE})) AS rare_domains,
              list_distinct(list(i.domain) FILTER (WHERE d.c <= $max_block)) AS block_domains,
              list_distinct(list(i.platform) FILTER (WHERE i.platform IN
                ({_sql_list(ONE_PER_PERSON)}))) AS platforms
       FROM ih i LEFT JOIN held h USING (stem) LEFT JOIN dheld d USING (domain)
       GROUP BY i.person),
     f AS MATERIALIZED (
       SELECT n.*, {_FORMS} AS forms,
              CASE WHEN first IS NOT NULL AND last IS NOT NULL AND length(given) > 1
                   THEN first || ' ' || last END AS full_name,
              coalesce(m.handles, []) AS handles, coalesce(m.rare_stems, []) AS rare_stems,
              coalesce(m.block_stems, []) AS block_stems, coalesce(m.domains, []) AS domains,
              coalesce(m.rare_domains, []) AS rare_domains,
              coalesce(m.block_domains, []) AS block_domains,
              coalesce(m.platforms, []) AS platforms
       FROM n LEFT JOIN mine m ON m.person = n.id),
     fc AS (SELECT *, count(*) OVER (PARTITION BY full_name) AS full_c,
                   count(*) OVER (PARTITION BY last, initial) AS surname_c FROM f),
     form_held AS (SELECT k, count(*) AS c FROM (
                     SELECT DISTINCT id, unnest(list_concat(handles, forms)) AS k FROM f)
                   GROUP BY k),
     keys AS (SELECT id, list_distinct(list(k)) AS block_keys FROM (
                SELECT id, unnest(list_concat(handles, forms)) AS k FROM f) x
              JOIN form_held USING (k) WHERE c <= $max_block GROUP BY id)
SELECT fc.id AS unique_id, CASE WHEN full_name IS NOT NULL THEN name_raw END AS name_raw,
       full_name AS name_full, first, last, initial,
       CASE WHEN last IS NOT NULL THEN initial || ' ' || last END AS initial_last, handles,
       list_filter(rare_stems, lambda h: rtrim(h, '0123456789') IS DISTINCT FROM given
                                  AND rtrim(h, '0123456789') IS DISTINCT FROM first)
         AS rare_handles,
       list_sort(list_distinct(list_filter(
         list_transform(handles, lambda h: rtrim(h, '0123456789')),
         lambda r: length(r) >= {MIN_HANDLE * 2} AND r IS DISTINCT FROM given
              AND r IS DISTINCT FROM first AND NOT list_contains(forms, r)))) AS handle_roots,
       list_sort(forms) AS name_forms,
       CASE WHEN full_name IS NULL OR full_c <= {RARE_HANDLE} THEN list_sort(forms) ELSE [] END
         AS rare_forms,
       list_sort(list_distinct(list_concat(handles, forms))) AS link_keys, domains,
       rare_domains, platforms, bot, team,
       CASE WHEN full_c <= $max_block THEN full_name END AS block_name,
       CASE WHEN surname_c <= $max_block AND last IS NOT NULL THEN last || ' ' || initial END
         AS block_surname,
       coalesce(keys.block_keys, []) AS block_keys, block_domains
FROM fc LEFT JOIN keys ON keys.id = fc.id
ORDER BY fc.id
"""


def features(persons: pa.Table, *, max_block: int = MAX_BLOCK) -> pa.Table:
    """One row of compared forms per person (`FEATURES_SCHEMA`)."""
    idents = pc.list_flatten(persons.column("identities"))
    owner = pc.take(persons.column("id"), pc.list_parent_indices(persons.column("identities")))
    keys = pc.struct_field(idents, "key")
    ident_table = pa.table({
        "person": owner, "platform": pc.struct_field(idents, "platform"), "key": keys,
        "fkey": fold_column(keys),
    })  # fmt: skip
    person_table = pa.table({
        "id": persons.column("id"), "fname": fold_column(persons.column("name")),
        "bot": pc.fill_null(persons.column("bot"), False),
        "team": pc.fill_null(persons.column("team"), False),
    })  # fmt: skip
    con = duckdb.connect(config={"enable_external_access": False, "threads": 2})
    try:
        con.register("persons", person_table)
        con.register("idents", ident_table)
        con.execute(_NAMES_SQL)
        con.execute(_IDENTITIES_SQL)
        out = con.sql(_FEATURES_SQL.replace("$max_block", str(int(max_block)))).to_arrow_table()
    finally:
        con.close()
    return out.rename_columns(FEATURES_SCHEMA.names).cast(FEATURES_SCHEMA)
