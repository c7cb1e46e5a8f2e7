"""What the merge pages show of a suggestion's or a merge's evidence, and a person's "Merged
from": plain values for the templates (`merge_review.html`, `_evidence.html`, `person.html`),
which escape every one of them. Used by `merge_pages` and by `pages.person_page`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from karmabank.actions.merge_review import kept_for, merge_by_id, merged_into
from karmabank.actions.people import ID_PREFIX, is_database_id
from karmabank.errors import NotFoundError

if TYPE_CHECKING:
    from karmabank.store.open import Store

_KNOWN = ("fields", "match_weight", "same_platform", "source")
SOURCE_FIELD = "source"  # a field an import adds (`actions/source_links.py`): not the matcher's


def evidence_rows(evidence: dict[str, Any]) -> dict[str, Any]:
    """The evidence as the page lays it out: the matcher's fields, each with its level and
    weight (agreed when it raised the match weight, disagreed when it lowered it, missing when
    a side has none), the prior (the match weight less the fields': what it is before any
    field) and the match weight; apart from them, what a source stated (its level, weight,
    file, line and identities); a platform both hold an identity on; anything else stored."""
    listed = [f for f in evidence.get("fields") or [] if isinstance(f, dict)]
    fields = [{**f, "verdict": _verdict(f)} for f in listed if f.get("field") != SOURCE_FIELD]
    weight = evidence.get("match_weight")
    prior = None
    if fields and isinstance(weight, int | float):
        weights = [f["weight"] for f in fields if isinstance(f.get("weight"), int | float)]
        prior = weight - sum(weights)
    stated = evidence.get("source")
    where: dict[str, Any] = stated if isinstance(stated, dict) else {}
    sources = [
        {"level": f.get("level"), "weight": f.get("weight"), "file": where.get("file"),
         "line": where.get("line"),
         "identities": [str(i) for i in where.get("identities") or [] if i is not None]}
        for f in listed if f.get("field") == SOURCE_FIELD
    ]  # fmt: skip
    other = [(k, v if isinstance(v, str) else _text(v)) for k, v in evidence.items()
             if k not in _KNOWN or (k == "source" and not sources)]  # fmt: skip
    return {"fields": fields, "prior": prior, "match_weight": weight if fields else None,
            "sources": sources, "same_platform": evidence.get("same_platform"),
            "other": other}  # fmt: skip


def _verdict(f: dict[str, Any]) -> str:
    w = f.get("weight")
    if f.get("level") == "missing" or not isinstance(w, int | float) or w == 0:
        return "missing"
    return "agreed" if w > 0 else "disagreed"


def _text(value: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def merged_from(
    store: Store, person_id: int, unmerged: int | None, absorbed: int | None = None
) -> dict[str, Any]:
    """The person page's "Merged from" (each active merge kept by the person, newest first, with
    its evidence laid out); after an Unmerge, the merge just undone (None if unknown); after
    an old link to an absorbed person, that person's id (if they are part of this one)."""
    merges = [{**m.as_json(), "shown": evidence_rows(m.evidence)}
              for m in merged_into(store=store, person_id=person_id)]  # fmt: skip
    undone = None
    if unmerged is not None:
        try:
            undone = merge_by_id(store=store, merge_id=unmerged).as_json()
        except NotFoundError:
            undone = None
    if absorbed is not None and kept_for(store=store, person_id=absorbed) != person_id:
        absorbed = None
    return {"merges": merges, "unmerged": undone, "absorbed": absorbed}


def merged_away(store: Store, ref: str) -> str | None:
    """Where the page of an absorbed person (`id:N`, an old link) now is: the person they
    were merged into; None for any other reference, or a person never absorbed."""
    digits = ref.strip()[len(ID_PREFIX) :].strip() if is_database_id(ref) else ""
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 10:
        return None
    kept = kept_for(store=store, person_id=int(digits))
    return None if kept is None else f"/people/{ID_PREFIX}{kept}?absorbed={int(digits)}"
