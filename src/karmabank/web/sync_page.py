"""Connections on the dashboard (issue 17): the home page lists each connection with its last
sync (`pages.home_page`), and an owner's "Sync now" form posts here with the session's
CSRF token; the answer is a page with each connection's counts (the same action as
`karmabank sync`). Anyone but an owner gets 403, and no "Sync now" button.

The secrets are read at this edge, from the server's environment and the secrets file
(`KARMABANK_SECRETS_FILE`), handed to the action, and never shown, stored or logged."""

from __future__ import annotations

import os
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from karmabank.actions import accounts
from karmabank.actions.connections import Secrets, sync_policy
from karmabank.actions.syncing import sync
from karmabank.web.page_forms import PermittedForm
from karmabank.web.pages import _context
from karmabank.web.security import Auth, StateDep, StoreDep
from karmabank.web.templating import page

router = APIRouter(include_in_schema=False)
SYNCER = PermittedForm(accounts.Permission.SYNC, "run a sync")  # an owner's form


@router.post("/connections/sync", response_class=HTMLResponse)
def sync_page(
    request: Request, auth: Annotated[Auth, Depends(SYNCER)], store: StoreDep, state: StateDep,
) -> Response:  # fmt: skip
    settings = state.settings
    secrets = Secrets(environ=dict(os.environ), file=settings.secrets_file)
    policy = sync_policy(settings.sync)
    report = sync(store=store, secrets=secrets, now=settings.clock(), policy=policy,
                  actor=auth.actor, followers_every=settings.sync.followers_interval)  # fmt: skip
    context = _context(request, auth, "Synced", "home", report=report.as_json(),
                       results=[(c, c.result) for c in report.connections])  # fmt: skip
    return page("synced.html", context)
