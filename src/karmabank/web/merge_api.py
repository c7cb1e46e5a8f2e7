"""The merge review under /api (issue 15): the stored open suggestions with both persons at a
glance, running the matcher again, merging a pair, marking one never to merge, the merges and
undoing one. The same actions as `karmabank merge ...`; refusals (one person twice, a bot with
a human, an undone merge, a pair marked never) are 409, an unknown person or merge 404.

Listing reads the stored suggestions only: the matcher runs on `POST
/api/merge-suggestions/refresh` (as `karmabank merge suggestions` does).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from karmabank.actions.merge_review import ReviewPage, review_suggestions
from karmabank.actions.merge_suggestions import merge_suggestions
from karmabank.actions.merging import list_merges, merge_never, merge_people, unmerge
from karmabank.web import schemas as s
from karmabank.web.api import _PROBLEMS
from karmabank.web.security import Reader, StateDep, StoreDep, Writer

router = APIRouter(prefix="/api", responses=_PROBLEMS, tags=["merging"])

Limit = Annotated[int, Query(ge=1, le=500, description="At most this many suggestions.")]
Offset = Annotated[int, Query(ge=0, le=100_000, description="Skip this many (paging).")]
MinConfidence = Annotated[
    float, Query(ge=0, le=1, allow_inf_nan=False, description="Only those at least this probable.")
]
MergeId = Annotated[int, Path(ge=1, le=s.MAX_ID, description="The merge's id, from GET /merges.")]


def _page(found: ReviewPage) -> dict[str, Any]:
    more = found.offset + found.limit < found.total
    return {**found.as_json(), "next_offset": found.offset + found.limit if more else None}


@router.get("/merge-suggestions", response_model=s.SuggestionPage,
            response_model_exclude_unset=True)  # fmt: skip
def suggestions_route(
    auth: Reader, store: StoreDep, limit: Limit = 50, offset: Offset = 0,
    min_confidence: MinConfidence = 0.0,
) -> dict[str, Any]:  # fmt: skip
    """The open merge suggestions as last found (most confident first), each person with their
    flags, activities, last activity and channels, and the evidence field by field. Does not
    run the matcher: `POST /merge-suggestions/refresh` does."""
    return _page(review_suggestions(store=store, limit=limit, offset=offset,
                                    min_confidence=min_confidence))  # fmt: skip


@router.post("/merge-suggestions/refresh", response_model=s.SuggestionPage,
             response_model_exclude_unset=True)  # fmt: skip
def refresh_suggestions_route(
    auth: Writer, store: StoreDep, state: StateDep, limit: Limit = 50,
    min_confidence: MinConfidence = 0.0,
) -> dict[str, Any]:  # fmt: skip
    """Run the matcher over everyone (`merge suggestions`), keep its pairs as open suggestions
    (a pair marked never, merged or rejected is left alone), and answer the first page."""
    merge_suggestions(store=store, settings=state.measures.linkage,
                      now=state.settings.clock(), limit=1)  # fmt: skip
    return _page(review_suggestions(store=store, limit=limit, min_confidence=min_confidence))


@router.post("/merges", status_code=201, response_model=s.MergeOut,
             response_model_exclude_unset=True)  # fmt: skip
def merge_route(auth: Writer, store: StoreDep, state: StateDep,
                body: s.MergeIn) -> dict[str, Any]:  # fmt: skip
    """Merge two persons into one (`merge A B --why`): the higher id is kept; an open
    suggestion of the pair lends its confidence and evidence. 409 when refused."""
    merged = merge_people(store=store, a=body.a, b=body.b, now=state.settings.clock(),
                          decided_by=auth.actor, why=body.why)  # fmt: skip
    return merged.as_json()


@router.get("/merges", response_model=list[s.MergeOut], response_model_exclude_unset=True)
def list_merges_route(
    auth: Reader, store: StoreDep,
    undone: Annotated[bool, Query(description="Include the undone merges.")] = True,
) -> list[dict[str, Any]]:  # fmt: skip
    """Every merge, oldest first: when, who decided, why, the evidence, the persons as they
    were, and when it was undone (`merge list`)."""
    return [m.as_json() for m in list_merges(store=store, include_undone=undone)]


@router.post("/merges/{merge_id}/unmerge", response_model=s.MergeOut,
             response_model_exclude_unset=True)  # fmt: skip
def unmerge_route(auth: Writer, store: StoreDep, state: StateDep,
                  merge_id: MergeId) -> dict[str, Any]:  # fmt: skip
    """Undo a merge exactly (`unmerge`): both persons back as they were. 409 when it was
    already undone, or a later merge of its kept person must be undone first."""
    return unmerge(store=store, merge_id=merge_id, now=state.settings.clock(),
                   decided_by=auth.actor).as_json()  # fmt: skip


@router.post("/merge-never", response_model=s.NeverOut)
def merge_never_route(auth: Writer, store: StoreDep, state: StateDep,
                      body: s.NeverIn) -> dict[str, Any]:  # fmt: skip
    """Mark two persons as not the same (`merge never`): never merged nor suggested again;
    their open suggestion is rejected. Marking a pair twice keeps the first mark."""
    pair = merge_never(store=store, a=body.a, b=body.b, now=state.settings.clock(),
                       decided_by=auth.actor, why=body.why)  # fmt: skip
    return pair.as_json()
