"""One error tree, converted once per edge (issue 14, point 6).

Every user-fixable error is a `KarmabankError` subclass defined in `errors.py` and drawn in its
docstring; the CLI turns one into a line and exit 1 (an option's value named as its flag), the
API into `{"detail": ...}` with the same words (the parameter named as such).
"""

from __future__ import annotations

import ast
import inspect
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from karmabank import errors
from karmabank.actions.accounts import Role, add_user, new_token
from karmabank.errors import KarmabankError, OptionError
from karmabank.store.open import open_store
from karmabank.web import WebSettings, create_app
from tests.cli_helpers import run
from tests.conftest import NOW

PACKAGE = Path(errors.__file__).parent
# Exceptions outside the tree on purpose (see errors.py's docstring): the web's control flow
# and the CSV reader's internal signal.
NOT_USER_ERRORS = {"LoginRequired", "BodyTooLarge", "_Runaway", "_BadRepository"}
TOO_EARLY = "0001-01-01T00:00:00+01:00"  # a year-1 time east of UTC: year 0 in UTC


def exception_classes(source: str) -> Iterator[tuple[int, str]]:
    """Classes in `source` whose bases look like exceptions (`...Error`, `...Exception`)."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ClassDef):
            names = [
                b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in node.bases
            ]
            if any(n.endswith(("Error", "Exception")) or n in NOT_USER_ERRORS for n in names):
                yield node.lineno, node.name


def test_exceptions_are_defined_in_errors_py_only() -> None:
    elsewhere = [
        f"{path.relative_to(PACKAGE)}:{line} {name}"
        for path in sorted(PACKAGE.rglob("*.py")) if path.name != "errors.py"
        for line, name in exception_classes(path.read_text(encoding="utf-8"))
        if name not in NOT_USER_ERRORS
    ]  # fmt: skip
    assert elsewhere == []
    assert list(exception_classes("class E(ValueError): pass\nclass F(errors.ConfigError): pass"))


def test_every_error_is_in_the_drawn_tree() -> None:
    tree = errors.__doc__ or ""
    for name, cls in inspect.getmembers(errors, inspect.isclass):
        if cls.__module__ == errors.__name__:
            assert issubclass(cls, KarmabankError), name
            assert f"── {name} " in tree or name == "KarmabankError", f"{name} is not drawn"


def test_an_option_error_names_the_option_and_the_problem() -> None:
    e = OptionError("days", "must be from 1 to 3650, not 0")
    assert str(e) == "days must be from 1 to 3650, not 0"
    assert (e.option, e.problem) == ("days", "must be from 1 to 3650, not 0")


@pytest.fixture
def api(db_url: str) -> Iterator[tuple[TestClient, dict[str, str]]]:
    with open_store(db_url) as store:
        add_user(store=store, email="org@example.org", role=Role.ORGANIZER.value, now=NOW,
                 password="correct horse battery staple", actor="test")  # fmt: skip
        token = new_token(store=store, email="org@example.org", now=NOW)[1]
    with TestClient(create_app(WebSettings(db=db_url, now=NOW))) as client:
        yield client, {"Authorization": f"Bearer {token}"}


def test_a_time_before_year_one_in_utc_is_a_clear_error_in_the_cli(
    sqlite_store: object, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "karmabank.db")
    for command in (["people"], ["status"], ["record", "in", "ada@example.org", "like"]):
        r = run(capsys, *command, "--db", db, "--now", TOO_EARLY)
        assert r.code == 1, r.out
        assert r.err.startswith(f"error: --now out of range: '{TOO_EARLY}' (supported: 1900"), r.err
        assert len(r.err.strip().splitlines()) == 1 and "Overflow" not in r.err
    r = run(capsys, "record", "in", "ada@example.org", "like", "--db", db, "--at", TOO_EARLY)
    assert r.code == 1 and r.err.startswith(f"error: --at out of range: '{TOO_EARLY}"), r.err


def test_a_time_before_year_one_in_utc_is_a_clear_error_in_the_api(
    api: tuple[TestClient, dict[str, str]],
) -> None:
    client, auth = api
    r = client.get("/api/people", params={"now": TOO_EARLY}, headers=auth)
    assert r.status_code == 400, r.text
    assert r.json()["detail"].startswith(f"now out of range: '{TOO_EARLY}' (supported: 1900")
    body = {"direction": "in", "person": "ada@example.org", "verb": "like", "at": TOO_EARLY}
    r = client.post("/api/activities", json=body, headers=auth)
    assert r.status_code == 400, r.text
    assert r.json()["detail"].startswith(f"at out of range: '{TOO_EARLY}'"), r.text


def test_the_api_names_the_parameter_and_the_cli_its_flag(
    api: tuple[TestClient, dict[str, str]], db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    client, auth = api
    later = "2030-01-01T00:00:00+00:00"
    body = {"direction": "in", "person": "ada@example.org", "verb": "like", "at": later}
    r = client.post("/api/activities", json=body, headers=auth)
    assert (r.status_code, r.json()) == (400, {"detail": f"at {later} is in the future"})
    done = run(capsys, "record", "in", "ada@example.org", "like", "--db", db_url, "--at", later,
               "--now", NOW.isoformat())  # fmt: skip
    assert (done.code, done.err.strip()) == (1, f"error: --at {later} is in the future")
