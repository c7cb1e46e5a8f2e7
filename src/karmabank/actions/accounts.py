"""Team accounts for the web app and the API: users with roles, passwords, API tokens and
browser sessions (PRODUCT.md §7).

Passwords are hashed with argon2id (argon2-cffi's defaults, rehashed when they change); API
tokens and session ids are 256 random bits, so only their SHA-256 is kept. What each role may
do is `may(role, action)`:

    viewer      read
    organizer   read, write (record, flag, nurture, issues, campaigns)
    owner       read, write, manage users
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select

from karmabank.actions.organization import write_audit
from karmabank.errors import ConfigError, NotFoundError
from karmabank.store.open import Store
from karmabank.store.tables import ApiToken, UserAccount, WebSession


class Role(StrEnum):
    OWNER = "owner"
    ORGANIZER = "organizer"
    VIEWER = "viewer"


class Permission(StrEnum):
    READ = "read"
    WRITE = "write"
    MANAGE_USERS = "manage_users"
    ERASE = "erase"  # a person, for good (`actions/erasure.py`)
    SYNC = "sync"  # run `karmabank sync` from the home page (`web/sync_page.py`)


PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.VIEWER: frozenset({Permission.READ}),
    Role.ORGANIZER: frozenset({Permission.READ, Permission.WRITE}),
    Role.OWNER: frozenset(Permission),
}
MIN_PASSWORD = 10
MAX_PASSWORD = 1024  # argon2 takes any length; this only stops absurd inputs
TOKEN_PREFIX = "kb_"
# last_used_at is written at most this often per token (a write per API call costs too much)
TOKEN_TOUCH = timedelta(minutes=5)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_HASHER = PasswordHasher()  # argon2id, RFC 9106 low-memory profile; stateless


def may(role: str, action: str) -> bool:
    """Whether `role` may do `action` (a Permission); unknown roles and actions may nothing."""
    try:
        return Permission(action) in PERMISSIONS[Role(role)]
    except ValueError:
        return False


@dataclass(frozen=True)
class UserView:
    id: int
    email: str
    role: str
    created_at: datetime
    disabled: bool

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "email": self.email, "role": self.role,
            "created_at": self.created_at.isoformat(), "disabled": self.disabled,
        }  # fmt: skip


def _view(u: UserAccount) -> UserView:
    return UserView(u.id, u.email, u.role, u.created_at, u.disabled)


def normalize_email(email: str) -> str:
    """Trimmed and lower-cased; ConfigError when it does not look like an address."""
    e = email.strip().lower()
    if len(e) > 254 or not _EMAIL.match(e):
        raise ConfigError(f"{email.strip()!r} is not an email address")
    return e


def _role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise ConfigError(
            f"unknown role {role!r} (roles: {', '.join(r.value for r in Role)})"
        ) from None


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def generate_password() -> str:
    """20 URL-safe characters (120 random bits)."""
    return secrets.token_urlsafe(15)


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise ConfigError(f"a password needs at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise ConfigError(f"a password has at most {MAX_PASSWORD} characters")


def add_user(
    *, store: Store, email: str, role: str, now: datetime, password: str | None = None,
    actor: str = "cli",
) -> tuple[UserView, str | None]:  # fmt: skip
    """Add a team member. Without `password` one is generated and returned (show it once);
    with one, None is returned in its place."""
    address = normalize_email(email)
    r = _role(role)
    clear = generate_password() if password is None else password
    check_password(clear)
    hashed = _HASHER.hash(clear)
    with store.sessions.begin() as session:
        if session.scalar(select(UserAccount.id).where(UserAccount.email == address)) is not None:
            raise ConfigError(f"{address} is already a user")
        user = UserAccount(email=address, role=r.value, password_hash=hashed, created_at=now)
        session.add(user)
        session.flush()
        write_audit(
            session, now=now, actor=actor, action="user add", subject=f"user:{user.id}",
            details={"email": address, "role": r.value}, scored=False,
        )  # fmt: skip
        return _view(user), clear if password is None else None


def list_users(*, store: Store) -> list[UserView]:
    with store.sessions() as session:
        return [_view(u) for u in session.scalars(select(UserAccount).order_by(UserAccount.id))]


def verify_login(*, store: Store, email: str, password: str) -> UserView | None:
    """The user if `password` is theirs and the account is enabled, else None. An unknown email
    costs the same argon2 work as a wrong password, so timing does not tell which it was.
    (The web app runs the three steps apart: the hashing holds no database lock.)"""
    candidate = login_candidate(store=store, email=email)
    if not password_matches(candidate, password):
        return None
    save_rehash(store=store, candidate=candidate, new_hash=rehash(candidate, password))
    return candidate.user


@dataclass(frozen=True)
class LoginCandidate:
    """Who a login names, and the hash to check its password against (a dummy hash when
    nobody or a disabled account: the same work, and never a match that counts)."""

    user: UserView | None
    password_hash: str


def login_candidate(*, store: Store, email: str) -> LoginCandidate:
    """The database part of a login (quick): the account `email` names, if enabled."""
    try:
        address = normalize_email(email)
    except ConfigError:
        address = None
    with store.sessions() as session:
        user = (
            session.scalar(select(UserAccount).where(UserAccount.email == address))
            if address
            else None
        )
    if user is None:
        return LoginCandidate(None, _dummy_hash())
    return LoginCandidate(None if user.disabled else _view(user), user.password_hash)


def password_matches(candidate: LoginCandidate, password: str) -> bool:
    """The argon2 part of a login (slow, no database): whether it logs `candidate.user` in."""
    try:
        _HASHER.verify(candidate.password_hash, password[:MAX_PASSWORD])
    except (VerificationError, InvalidHashError):
        return False
    return candidate.user is not None and len(password) <= MAX_PASSWORD


def rehash(candidate: LoginCandidate, password: str) -> str | None:
    """A new hash of a matching password when argon2's parameters changed (slow), else None."""
    if candidate.user is None or not _HASHER.check_needs_rehash(candidate.password_hash):
        return None
    return _HASHER.hash(password)


def save_rehash(*, store: Store, candidate: LoginCandidate, new_hash: str | None) -> None:
    if new_hash is None or candidate.user is None:
        return
    with store.sessions.begin() as session:
        row = session.get(UserAccount, candidate.user.id)
        if row is not None and row.password_hash == candidate.password_hash:
            row.password_hash = new_hash


@cache
def _dummy_hash() -> str:
    return _HASHER.hash(secrets.token_urlsafe(16))


def new_token(
    *, store: Store, email: str, now: datetime, actor: str = "cli"
) -> tuple[UserView, str]:
    """A new API bearer token for the user with `email`: the clear token is returned once, only
    its hash is stored."""
    address = normalize_email(email)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with store.sessions.begin() as session:
        user = session.scalar(select(UserAccount).where(UserAccount.email == address))
        if user is None:
            raise NotFoundError(f"no user {address} (add one with `karmabank user add`)")
        row = ApiToken(user_id=user.id, token_hash=_digest(token), created_at=now)
        session.add(row)
        session.flush()
        write_audit(
            session, now=now, actor=actor, action="token new", subject=f"user:{user.id}",
            details={"token_id": row.id}, scored=False,
        )  # fmt: skip
        return _view(user), token


def user_for_token(*, store: Store, token: str, now: datetime) -> UserView | None:
    """The enabled user a bearer token belongs to, else None; notes when it was last used."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    with store.sessions() as session:
        found = session.execute(
            select(ApiToken, UserAccount)
            .join(UserAccount, UserAccount.id == ApiToken.user_id)
            .where(ApiToken.token_hash == _digest(token))
        ).first()
    if found is None:
        return None
    row, user = found
    if user.disabled:
        return None
    if row.last_used_at is None or now - row.last_used_at >= TOKEN_TOUCH:
        with store.sessions.begin() as session:
            t = session.get(ApiToken, row.id)
            if t is not None:
                t.last_used_at = now
    return _view(user)


def set_disabled(
    *, store: Store, email: str | None = None, user_id: int | None = None, disabled: bool,
    now: datetime, actor: str = "cli",
) -> UserView:  # fmt: skip
    """Disable a user (or, with `disabled=False`, enable them again). A disabled user's sessions
    are deleted and their tokens refused at once; enabled again, the tokens work again and they
    log in anew. The last enabled owner cannot be disabled (nobody could manage users)."""
    address = normalize_email(email) if email is not None else None
    with store.sessions.begin() as session:
        user = (
            session.scalar(select(UserAccount).where(UserAccount.email == address))
            if address is not None
            else session.get(UserAccount, user_id)
        )
        if user is None:
            which = address if address is not None else user_id
            raise NotFoundError(f"no user {which} (see `karmabank user list`)")
        address = user.email
        if disabled and not user.disabled and user.role == Role.OWNER.value:
            others = session.scalar(
                select(func.count()).select_from(UserAccount).where(
                    UserAccount.role == Role.OWNER.value, ~UserAccount.disabled,
                    UserAccount.id != user.id,
                )
            )  # fmt: skip
            if not others:
                raise ConfigError(
                    f"{address} is the last enabled owner: make someone else owner first"
                )
        changed = user.disabled != disabled
        user.disabled = disabled
        if disabled:
            session.execute(delete(WebSession).where(WebSession.user_id == user.id))
        if changed:
            write_audit(
                session, now=now, actor=actor, action="user disable" if disabled else "user enable",
                subject=f"user:{user.id}", details={"email": address}, scored=False,
            )  # fmt: skip
        return _view(user)


@dataclass(frozen=True)
class TokenView:
    id: int
    email: str  # whose it is
    created_at: datetime
    last_used_at: datetime | None

    def as_json(self) -> dict[str, Any]:
        used = self.last_used_at.isoformat() if self.last_used_at else None
        return {"id": self.id, "email": self.email, "created_at": self.created_at.isoformat(),
                "last_used_at": used}  # fmt: skip


def list_tokens(*, store: Store, email: str | None = None) -> list[TokenView]:
    """API tokens (never the tokens themselves: only their hashes are kept), oldest first."""
    q = select(ApiToken, UserAccount.email).join(UserAccount, UserAccount.id == ApiToken.user_id)
    if email is not None:
        q = q.where(UserAccount.email == normalize_email(email))
    with store.sessions() as session:
        return [
            TokenView(t.id, e, t.created_at, t.last_used_at)
            for t, e in session.execute(q.order_by(ApiToken.id))
        ]


def revoke_token(*, store: Store, token: str, now: datetime, actor: str = "cli") -> TokenView:
    """Revoke an API token, named by its id (`karmabank token list`) or the token itself: it is
    deleted, so it stops working at once."""
    ref = token.strip()
    where = (
        ApiToken.token_hash == _digest(ref) if ref.startswith(TOKEN_PREFIX)
        else ApiToken.id == _token_id(ref)
    )  # fmt: skip
    with store.sessions.begin() as session:
        found = session.execute(
            select(ApiToken, UserAccount.email)
            .join(UserAccount, UserAccount.id == ApiToken.user_id)
            .where(where)
        ).first()
        if found is None:
            which = "with that value" if ref.startswith(TOKEN_PREFIX) else ref
            raise NotFoundError(f"no API token {which} (see `karmabank token list`)")
        row, owner = found
        view = TokenView(row.id, owner, row.created_at, row.last_used_at)
        session.delete(row)
        write_audit(
            session, now=now, actor=actor, action="token revoke", subject=f"user:{row.user_id}",
            details={"token_id": row.id}, scored=False,
        )  # fmt: skip
        return view


def _token_id(ref: str) -> int:
    if not ref.isdigit() or len(ref) > 18:
        raise ConfigError(f"{ref!r} is neither a token id (see `karmabank token list`) nor a token")
    return int(ref)


def create_session(*, store: Store, user_id: int, now: datetime, lifetime: timedelta) -> str:
    """A new browser session for the user: returns the clear session id (for the cookie).
    Expired sessions of anyone are cleared on the way."""
    session_id = secrets.token_urlsafe(32)
    with store.sessions.begin() as session:
        session.execute(delete(WebSession).where(WebSession.expires_at <= now))
        session.add(
            WebSession(
                user_id=user_id,
                session_hash=_digest(session_id),
                created_at=now,
                expires_at=now + lifetime,
            )  # fmt: skip
        )
    return session_id


def session_user(*, store: Store, session_id: str, now: datetime) -> UserView | None:
    """The enabled user of a live session, else None."""
    with store.sessions() as session:
        found = session.execute(
            select(UserAccount)
            .join(WebSession, WebSession.user_id == UserAccount.id)
            .where(WebSession.session_hash == _digest(session_id), WebSession.expires_at > now)
        ).scalar()
        if found is None or found.disabled:
            return None
        return _view(found)


def delete_session(*, store: Store, session_id: str) -> bool:
    """Log a browser out; True when there was such a session."""
    with store.sessions.begin() as session:
        result = session.execute(
            delete(WebSession).where(WebSession.session_hash == _digest(session_id))
        )
        return bool(getattr(result, "rowcount", 0))
