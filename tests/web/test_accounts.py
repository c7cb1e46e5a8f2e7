"""Team accounts: the actions on both backends (argon2id passwords, hashed tokens and
sessions, roles) and the `karmabank user add` / `token new` commands."""

from __future__ import annotations

import hashlib
import io
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from karmabank.actions.accounts import (
    PERMISSIONS,
    Permission,
    Role,
    add_user,
    create_session,
    delete_session,
    may,
    new_token,
    session_user,
    user_for_token,
    verify_login,
)
from karmabank.errors import ConfigError, NotFoundError
from karmabank.store.open import Store, open_store
from karmabank.store.tables import ApiToken, AuditLog, UserAccount, WebSession
from karmabank.web import WebSettings, create_app
from tests.cli_helpers import run
from tests.conftest import NOW

PASSWORD = "correct horse battery staple"


def test_what_each_role_may_do() -> None:
    assert [p for p in Permission if may("viewer", p)] == [Permission.READ]
    assert [p for p in Permission if may("organizer", p)] == [Permission.READ, Permission.WRITE]
    assert all(may("owner", p) for p in Permission)
    assert not may("admin", "read") and not may("owner", "delete everything")
    assert set(PERMISSIONS) == set(Role)


def test_passwords_are_argon2id_and_logins_check_them(store: Store) -> None:
    user, generated = add_user(store=store, email=" Ada@Example.ORG ", role="organizer",
                               now=NOW, password=PASSWORD)  # fmt: skip
    assert generated is None and user.email == "ada@example.org"
    with store.sessions() as session:
        stored = session.scalars(select(UserAccount.password_hash)).one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert verify_login(store=store, email="ADA@example.org", password=PASSWORD) == user
    assert verify_login(store=store, email="ada@example.org", password=PASSWORD + "!") is None
    assert verify_login(store=store, email="bob@example.org", password=PASSWORD) is None
    assert verify_login(store=store, email="not an email", password=PASSWORD) is None
    with store.sessions.begin() as session:
        session.execute(update(UserAccount).values(disabled=True))
    assert verify_login(store=store, email="ada@example.org", password=PASSWORD) is None
    with store.sessions() as session:
        audit = session.scalars(select(AuditLog).where(AuditLog.action == "user add")).one()
    assert audit.subject == f"user:{user.id}" and "organizer" in audit.details


def test_bad_users_are_refused(store: Store) -> None:
    user, generated = add_user(store=store, email="a@example.org", role="viewer", now=NOW)
    assert generated is not None and len(generated) >= 20
    assert verify_login(store=store, email="a@example.org", password=generated) == user
    for email, role, password, message in (
        ("a@example.org", "viewer", PASSWORD, "a@example.org is already a user"),
        ("A@EXAMPLE.org", "owner", PASSWORD, "a@example.org is already a user"),
        ("b@example.org", "admin", PASSWORD, "unknown role 'admin'"),
        ("b@example.org", "viewer", "short", "a password needs at least 10 characters"),
        ("nobody", "viewer", PASSWORD, "'nobody' is not an email address"),
    ):
        with pytest.raises(ConfigError, match=message):
            add_user(store=store, email=email, role=role, now=NOW, password=password)


def test_tokens_are_stored_hashed_and_can_be_revoked(store: Store) -> None:
    add_user(store=store, email="a@example.org", role="viewer", now=NOW, password=PASSWORD)
    user, token = new_token(store=store, email="A@example.org", now=NOW)
    assert token.startswith("kb_") and len(token) > 40
    with store.sessions() as session:
        row = session.scalars(select(ApiToken)).one()
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert row.last_used_at is None
    assert user_for_token(store=store, token=token, now=NOW) == user
    with store.sessions() as session:
        assert session.scalars(select(ApiToken.last_used_at)).one() == NOW
    assert user_for_token(store=store, token=token[:-1], now=NOW) is None
    assert user_for_token(store=store, token=row.token_hash, now=NOW) is None  # the hash is no key
    with store.sessions.begin() as session:
        session.execute(update(UserAccount).values(disabled=True))
    assert user_for_token(store=store, token=token, now=NOW) is None
    with pytest.raises(NotFoundError, match="no user b@example.org"):
        new_token(store=store, email="b@example.org", now=NOW)


def test_sessions_expire_and_logout_deletes_them(store: Store) -> None:
    user, _ = add_user(store=store, email="a@example.org", role="viewer", now=NOW,
                       password=PASSWORD)  # fmt: skip
    day = timedelta(days=1)
    old = create_session(store=store, user_id=user.id, now=NOW - 2 * day, lifetime=day)
    sid = create_session(store=store, user_id=user.id, now=NOW, lifetime=day)
    with store.sessions() as session:
        hashes = list(session.scalars(select(WebSession.session_hash)))
    assert hashes == [hashlib.sha256(sid.encode()).hexdigest()]  # the expired one was cleared
    assert session_user(store=store, session_id=old, now=NOW) is None
    assert session_user(store=store, session_id=sid, now=NOW) == user
    assert session_user(store=store, session_id=sid, now=NOW + day) is None
    assert delete_session(store=store, session_id=sid) is True
    assert session_user(store=store, session_id=sid, now=NOW) is None
    assert delete_session(store=store, session_id=sid) is False


def test_user_add_and_token_new_on_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = str(tmp_path / "k.db")
    with open_store(db, create=True):
        pass
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    r = run(capsys, "user", "add", "Ada@Example.org", "--role", "owner", "--db", db)
    assert (r.code, r.out, r.err) == (0, "user 1 ada@example.org added as owner\n", "")
    r = run(capsys, "user", "add", "bob@example.org", "--role", "viewer", "--generate", "--db", db)
    assert r.code == 0, r.err
    shown = r.out.splitlines()
    assert shown[:2] == ["user 2 bob@example.org added as viewer",
                         "password (shown once, keep it safe):"]  # fmt: skip
    with open_store(db) as store:
        assert verify_login(store=store, email="bob@example.org", password=shown[2]) is not None
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    r = run(capsys, "user", "add", "cy@example.org", "--role", "viewer", "--db", db)
    assert (r.code, r.err) == (1, "error: a password needs at least 10 characters\n")
    r = run(capsys, "user", "add", "cy@example.org", "--role", "boss", "--generate", "--db", db)
    assert r.code == 2
    r = run(capsys, "token", "new", "ada@example.org", "--db", db)
    assert r.code == 0, r.err
    token = r.out.splitlines()[-1]
    app = create_app(WebSettings(db=db))
    with TestClient(app) as client:
        me = client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json()["email"] == "ada@example.org"
    r = run(capsys, "token", "new", "nobody@example.org", "--db", db)
    assert (r.code, r.err) == (
        1, "error: no user nobody@example.org (add one with `karmabank user add`)\n"
    )  # fmt: skip
