"""The issues page: the organization's issues with their keywords (`/issues`), a form to add
one and, per issue, a form to replace its keywords (the same actions as `karmabank issue add`;
writers only, with the session's CSRF token; they work without JavaScript)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from karmabank.actions import issues
from karmabank.web import schemas as s
from karmabank.web.pages import PageAuth, PageWriter, _context
from karmabank.web.security import StateDep, StoreDep
from karmabank.web.templating import page

router = APIRouter(include_in_schema=False)

Keywords = Annotated[str, Form(min_length=1, max_length=2000), s.STORABLE]


@router.get("/issues", response_class=HTMLResponse)
def issues_page(request: Request, auth: PageAuth, store: StoreDep) -> Response:
    listed = [i.as_json() for i in issues.list_issues(store=store)]
    return page("issues.html", _context(request, auth, "Issues", "issues", issues=listed))


@router.post("/issues")
def add_issue_page(
    auth: PageWriter, store: StoreDep, state: StateDep,
    name: Annotated[str, Form(min_length=1, max_length=200), s.STORABLE], keywords: Keywords,
    description: Annotated[str, Form(max_length=2000), s.STORABLE] = "",
) -> Response:  # fmt: skip
    made = issues.add_issue(store=store, name=name, keywords=[keywords], description=description,
                            now=state.settings.clock(), actor=auth.actor)  # fmt: skip
    return RedirectResponse(f"/issues#issue-{made.id}", status_code=303)


@router.post("/issues/{issue_id}/keywords")
def keywords_page(
    auth: PageWriter, store: StoreDep, state: StateDep,
    issue_id: Annotated[int, Path(ge=1, le=s.MAX_ID)], keywords: Keywords,
) -> Response:  # fmt: skip
    issues.set_keywords(store=store, ref=str(issue_id), keywords=[keywords],
                        now=state.settings.clock(), actor=auth.actor)  # fmt: skip
    return RedirectResponse(f"/issues#issue-{issue_id}", status_code=303)
