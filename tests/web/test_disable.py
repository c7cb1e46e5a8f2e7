"""Disabling users and revoking tokens: the actions on both backends, `karmabank user disable`
and `token list` / `token revoke`, and the owners' API actions (CSRF-protected with a session
cookie). A disabled user's sessions and tokens stop working at once."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from karmabank.actions.accounts import (
    add_user,
    create_session,
    list_tokens,
    new_token,
    revoke_token,
    session_user,
    set_disabled,
    user_for_token,
)
from karmabank.errors import ConfigError, NotFoundError
from karmabank.store.open import Store, open_store
from karmabank.store.tables import AuditLog, WebSession
from karmabank.web import WebSettings, create_app
from tests.cli_helpers import run
from tests.conftest import NOW

PASSWORD = "correct horse battery staple"


def _team(store: Store) -> dict[str, str]:
    tokens = {}
    for role in ("owner", "organizer", "viewer"):
        add_user(store=store, email=f"{role}@example.org", role=role, now=NOW, password=PASSWORD)
        tokens[role] = new_token(store=store, email=f"{role}@example.org", now=NOW)[1]
    return tokens


def test_a_disabled_users_sessions_and_tokens_stop_at_once(store: Store) -> None:
    from datetime import timedelta

    tokens = _team(store)
    sid = create_session(store=store, user_id=2, now=NOW, lifetime=timedelta(days=1))
    assert session_user(store=store, session_id=sid, now=NOW) is not None
    user = set_disabled(store=store, email="Organizer@example.org", disabled=True, now=NOW)
    assert user.disabled and user.email == "organizer@example.org"
    assert session_user(store=store, session_id=sid, now=NOW) is None
    assert user_for_token(store=store, token=tokens["organizer"], now=NOW) is None
    with store.sessions() as s:
        assert s.scalars(select(WebSession.user_id)).all() == []  # logged out everywhere
    assert user_for_token(store=store, token=tokens["viewer"], now=NOW) is not None  # others
    again = set_disabled(store=store, email="organizer@example.org", disabled=False, now=NOW)
    assert not again.disabled
    assert user_for_token(store=store, token=tokens["organizer"], now=NOW) is not None
    assert session_user(store=store, session_id=sid, now=NOW) is None  # log in anew
    with store.sessions() as s:
        actions = s.scalars(select(AuditLog.action).where(AuditLog.action.like("user %"))).all()
    assert actions.count("user disable") == 1 and actions.count("user enable") == 1


def test_the_last_enabled_owner_cannot_be_disabled(store: Store) -> None:
    _team(store)
    with pytest.raises(ConfigError, match="owner@example.org is the last enabled owner"):
        set_disabled(store=store, email="owner@example.org", disabled=True, now=NOW)
    add_user(store=store, email="second@example.org", role="owner", now=NOW, password=PASSWORD)
    assert set_disabled(store=store, email="owner@example.org", disabled=True, now=NOW).disabled
    with pytest.raises(ConfigError, match="second@example.org is the last enabled owner"):
        set_disabled(store=store, email="second@example.org", disabled=True, now=NOW)
    with pytest.raises(NotFoundError, match="no user nobody@example.org"):
        set_disabled(store=store, email="nobody@example.org", disabled=True, now=NOW)


def test_tokens_are_revoked_by_id_or_by_value(store: Store) -> None:
    tokens = _team(store)
    second = new_token(store=store, email="viewer@example.org", now=NOW)[1]
    listed = list_tokens(store=store, email="viewer@example.org")
    assert [(t.id, t.email) for t in listed] == [(3, "viewer@example.org"),
                                                 (4, "viewer@example.org")]  # fmt: skip
    assert revoke_token(store=store, token="3", now=NOW).email == "viewer@example.org"
    assert user_for_token(store=store, token=tokens["viewer"], now=NOW) is None
    assert user_for_token(store=store, token=second, now=NOW) is not None  # the other works
    assert revoke_token(store=store, token=second, now=NOW).id == 4
    assert user_for_token(store=store, token=second, now=NOW) is None
    with pytest.raises(NotFoundError, match="no API token 3 "):
        revoke_token(store=store, token="3", now=NOW)
    with pytest.raises(NotFoundError, match="no API token with that value"):
        revoke_token(store=store, token=second, now=NOW)
    with pytest.raises(ConfigError, match="'x1' is neither a token id"):
        revoke_token(store=store, token="x1", now=NOW)
    assert [t.id for t in list_tokens(store=store)] == [1, 2]


def test_user_disable_and_token_revoke_on_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "k.db")
    with open_store(db, create=True) as store:
        tokens = _team(store)
    r = run(capsys, "user", "disable", "viewer@example.org", "--db", db)
    assert (r.code, r.out) == (0, "user 3 viewer@example.org disabled: logged out everywhere, "
                                  "API tokens refused (`--off` enables again)\n")  # fmt: skip
    r = run(capsys, "user", "list", "--db", db)
    assert r.out.splitlines() == ["1 owner@example.org owner", "2 organizer@example.org organizer",
                                  "3 viewer@example.org viewer disabled"]  # fmt: skip
    with TestClient(create_app(WebSettings(db=db, now=NOW))) as client:
        me = client.get("/api/me", headers={"Authorization": f"Bearer {tokens['viewer']}"})
        assert me.status_code == 401
        r = run(capsys, "user", "disable", "viewer@example.org", "--off", "--db", db)
        assert (r.code, r.out) == (0, "user 3 viewer@example.org enabled\n")
        me = client.get("/api/me", headers={"Authorization": f"Bearer {tokens['viewer']}"})
        assert me.status_code == 200
        r = run(capsys, "token", "list", "--db", db)
        assert r.out.splitlines()[1] == (
            "2 organizer@example.org created 2026-06-01T12:00+00:00, last used never"
        )
        assert r.out.splitlines()[2].startswith("3 viewer@example.org created ")
        r = run(capsys, "token", "revoke", "3", "--db", db)
        assert (r.code, r.out) == (0, "API token 3 of viewer@example.org revoked\n")
        me = client.get("/api/me", headers={"Authorization": f"Bearer {tokens['viewer']}"})
        assert me.status_code == 401
    r = run(capsys, "token", "revoke", "3", "--db", db)
    assert (r.code, r.err) == (1, "error: no API token 3 (see `karmabank token list`)\n")
    r = run(capsys, "user", "disable", "owner@example.org", "--db", db)
    assert (r.code, r.err) == (
        1, "error: owner@example.org is the last enabled owner: make someone else owner first\n"
    )  # fmt: skip


@pytest.fixture
def web(db_url: str) -> Iterator[tuple[TestClient, dict[str, str]]]:
    with open_store(db_url) as store:
        tokens = _team(store)
    with TestClient(create_app(WebSettings(db=db_url, now=NOW)), follow_redirects=False) as c:
        yield c, tokens


def _log_in(client: TestClient, email: str) -> str:
    """Log in through the form; the session's CSRF token."""
    page = client.get("/login")
    found = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page.text)
    assert found is not None
    r = client.post("/login", data={"email": email, "password": PASSWORD,
                                    "csrf_token": found.group(1), "next": "/"})  # fmt: skip
    assert r.status_code == 303
    me = client.get("/api/me")
    assert me.status_code == 200
    csrf: str = me.json()["csrf_token"]
    return csrf


def test_owners_disable_users_and_revoke_tokens_in_the_web(
    web: tuple[TestClient, dict[str, str]], db_url: str
) -> None:
    client, tokens = web
    bearer = {role: {"Authorization": f"Bearer {t}"} for role, t in tokens.items()}
    # the organizer, logged in with a session in another browser
    with TestClient(client.app, follow_redirects=False) as other:
        _log_in(other, "organizer@example.org")
        assert other.get("/api/people").status_code == 200
        for role in ("organizer", "viewer"):
            r = client.post("/api/users/2/disable", headers=bearer[role])
            assert r.status_code == 403 and "may not manage users" in r.json()["detail"]
        csrf = _log_in(client, "owner@example.org")
        r = client.post("/api/users/2/disable")  # a cookie without its CSRF token
        assert r.status_code == 403 and "CSRF" in r.json()["detail"]
        r = client.post("/api/users/2/disable", headers={"X-CSRF-Token": csrf})
        assert r.status_code == 200 and r.json()["disabled"] is True
        # at once: the organizer's session and token
        assert other.get("/api/people").status_code == 401
        assert client.get("/api/me", headers=bearer["organizer"]).status_code == 401
        r = client.post("/api/users/1/disable", headers={"X-CSRF-Token": csrf})
        assert r.status_code == 400 and "last enabled owner" in r.json()["detail"]
        r = client.post("/api/users/99/disable", headers={"X-CSRF-Token": csrf})
        assert r.status_code == 404
        r = client.post("/api/users/2/enable", headers={"X-CSRF-Token": csrf})
        assert r.status_code == 200 and r.json()["disabled"] is False
        assert client.get("/api/me", headers=bearer["organizer"]).status_code == 200
        assert other.get("/api/people").status_code == 401  # the session ended for good
    listed = client.get("/api/tokens")
    assert [t["email"] for t in listed.json()] == [
        "owner@example.org", "organizer@example.org", "viewer@example.org"
    ]  # fmt: skip
    r = client.post("/api/tokens/3/revoke")
    assert r.status_code == 403  # CSRF again
    assert client.get("/api/tokens", headers=bearer["viewer"]).status_code == 403
    r = client.post("/api/tokens/3/revoke", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200 and r.json()["email"] == "viewer@example.org"
    assert client.get("/api/me", headers=bearer["viewer"]).status_code == 401
    r = client.post("/api/tokens/3/revoke", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 404
    with open_store(db_url) as store, store.sessions() as s:
        actors = s.scalars(
            select(AuditLog.actor).where(AuditLog.action.in_(["user disable", "token revoke"]))
        ).all()
    assert actors == ["web:owner@example.org", "web:owner@example.org"]


def test_the_team_page_lets_owners_disable_users_and_revoke_tokens(
    web: tuple[TestClient, dict[str, str]],
) -> None:
    client, tokens = web
    with TestClient(client.app, follow_redirects=False) as organizer:
        _log_in(organizer, "organizer@example.org")
        assert organizer.get("/team").status_code == 403
        assert 'href="/team"' not in organizer.get("/people").text  # no link for them
        csrf = _log_in(client, "owner@example.org")
        page = client.get("/team")
        assert page.status_code == 200 and 'href="/team" aria-current="page"' in page.text
        assert 'action="/team/users/2/disable"' in page.text
        assert 'action="/team/tokens/3/revoke"' in page.text
        forged = client.post("/team/users/2/disable")  # a form without its CSRF token
        assert forged.status_code == 403 and "CSRF" in forged.text
        assert organizer.post("/team/users/3/disable",
                              data={"csrf_token": csrf}).status_code == 403  # fmt: skip
        r = client.post("/team/users/2/disable", data={"csrf_token": csrf})
        assert (r.status_code, r.headers["location"]) == (303, "/team")
        assert organizer.get("/people").status_code == 303  # logged out: to the login page
        assert client.get("/api/me", headers={"Authorization": f"Bearer {tokens['organizer']}"}
                          ).status_code == 401  # fmt: skip
        page = client.get("/team")
        assert 'action="/team/users/2/enable"' in page.text
        r = client.post("/team/users/1/disable", data={"csrf_token": csrf})
        assert r.status_code == 400 and "last enabled owner" in r.text
        r = client.post("/team/tokens/3/revoke", data={"csrf_token": csrf})
        assert r.status_code == 303
        assert client.get("/api/me", headers={"Authorization": f"Bearer {tokens['viewer']}"}
                          ).status_code == 401  # fmt: skip
        assert 'action="/team/tokens/3/revoke"' not in client.get("/team").text
