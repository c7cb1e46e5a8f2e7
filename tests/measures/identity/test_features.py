"""The column-wise features (Arrow and DuckDB SQL) make the forms `names.py` defines, person by
person, and leave a key too many persons hold out of the blocks."""

from __future__ import annotations

import pyarrow as pa

from karmabank.demo_network.identity_world import generate
from karmabank.measures.identity.features import (
    ONE_PER_PERSON,
    RARE_HANDLE,
    features,
    fold_column,
    persons_table,
)
from karmabank.measures.identity.names import (
    NameParts,
    fold,
    handle_root,
    identity_domains,
    identity_handles,
    name_forms,
)

TRICKY_NAMES = [
    "Zoë ŁUKASZ-Smith", "ﬁona Straße", "Søren O'Brien", "Chema Þórsdóttir", "J. R. R. Tolkien",
    "Anna van der Berg", "BOBBY  SMITH", "Ngozi", "Æsa Œuvre", "Đorđe Kovačević", "Işık Çelik",
    "", "  ", "R.", "Ａｎｎａ Ｋｉｍ",
]  # fmt: skip
TRICKY_IDENTITIES = [
    ("email", "info@kwame.dev"), ("email", "bob.smith+news@www.smith.org"),
    ("email", "zoë.k@gmail.com"), ("web", "https://www.zz.org/a/b"), ("web", "zz.net:8080"),
    ("bluesky", "did:plc:abc"), ("bluesky", "me.example"), ("bluesky", "ab-cd.bsky.social"),
    ("mastodon", "@Zoë_K@mas.to"), ("x", "1234"), ("github", "jrr-t"), ("linkedin", "ﬁona-s"),
    ("event", "meetup:42"), ("phone", "+4915112345678"),
]  # fmt: skip


def test_fold_column_is_fold() -> None:
    texts = TRICKY_NAMES + [k for _p, k in TRICKY_IDENTITIES]
    assert fold_column(pa.array(texts)).to_pylist() == [fold(t) for t in texts]


def _expected(name: str | None, idents: list[tuple[str, str]]) -> dict[str, object]:
    parts = NameParts(name)
    handles = sorted({h for p, k in idents for h in identity_handles(p, k)})
    return {
        "name_raw": parts.raw if parts.full else None, "name_full": parts.full,
        "first": parts.first, "last": parts.last, "initial": parts.initial,
        "handles": handles, "name_forms": sorted(name_forms(name)),
        "domains": sorted({d for p, k in idents for d in identity_domains(p, k)}),
        "platforms": sorted({p for p, _k in idents if p in ONE_PER_PERSON}),
        "handle_roots": sorted({r for h in handles if (r := handle_root(h))
                                and r not in {parts.given, parts.first} | name_forms(name)}),
    }  # fmt: skip


def test_features_make_the_forms_names_defines() -> None:
    rows: list[dict[str, object]] = [
        {"id": i + 1, "name": name, "names": [], "bot": False, "team": False,
         "identities": [TRICKY_IDENTITIES[i % len(TRICKY_IDENTITIES)],
                        TRICKY_IDENTITIES[(i * 5 + 3) % len(TRICKY_IDENTITIES)]]}
        for i, name in enumerate([*TRICKY_NAMES, None])
    ]  # fmt: skip
    got = features(persons_table(rows)).to_pylist()
    assert [g["unique_id"] for g in got] == [r["id"] for r in rows]
    for row, g in zip(rows, got, strict=True):
        want = _expected(row["name"], row["identities"])  # type: ignore[arg-type]
        have = {k: sorted(v) if isinstance(v, list) else v for k, v in g.items() if k in want}
        assert have == want, row


def test_rare_and_blocked_keys_count_persons() -> None:
    world = generate(seed=4, personas=300)
    table = persons_table(world.rows())
    got = features(table, max_block=3).to_pylist()
    held: dict[str, int] = {}  # a handle or name form: how many persons have it
    handled: dict[str, int] = {}  # a handle: how many persons hold it
    for g in got:
        for k in g["link_keys"]:
            held[k] = held.get(k, 0) + 1
        for h in g["handles"]:
            handled[h] = handled.get(h, 0) + 1
    for g in got:
        assert set(g["rare_handles"]) <= {h for h in g["handles"] if handled[h] <= RARE_HANDLE}
        assert sorted(g["block_keys"]) == sorted(k for k in g["link_keys"] if held[k] <= 3)
    fulls: dict[str, int] = {}
    for g in got:
        if g["name_full"]:
            fulls[g["name_full"]] = fulls.get(g["name_full"], 0) + 1
    common = [g for g in got if g["name_full"] and fulls[g["name_full"]] > 3]
    assert common and all(g["block_name"] is None for g in common)
    assert all(g["block_name"] == g["name_full"] for g in got
               if g["name_full"] and fulls[g["name_full"]] <= 3)  # fmt: skip
