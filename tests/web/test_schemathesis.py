"""Schemathesis reads the app's /openapi.json and throws generated requests, valid and invalid,
at every operation, in-process, as an owner (who may call everything): none may answer 5xx."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI, Response
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup, ServerError
from schemathesis.core.result import Ok
from schemathesis.schemas import BaseSchema

from karmabank.actions.accounts import add_user, new_token
from karmabank.actions.issues import add_issue
from karmabank.actions.recording import record_activity
from karmabank.model import Direction
from karmabank.store.open import open_store
from karmabank.web import WebSettings, create_app
from tests.conftest import NOW


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(database, owner's token): a few people, an issue, a user; kept for the whole module,
    so what one operation creates the next may find."""
    db = str(tmp_path_factory.mktemp("schemathesis") / "k.db")
    with open_store(db, create=True) as store:
        add_user(store=store, email="owner@example.org", role="owner", now=NOW,
                 password="correct horse battery staple")  # fmt: skip
        token = new_token(store=store, email="owner@example.org", now=NOW)[1]
        for who, verb in (("ann", "comment"), ("ben", "donate"), ("cat", "share")):
            record_activity(store=store, direction=Direction.IN, ref=f"{who}@example.org",
                            verb=verb, at=NOW, now=NOW, name=who.title(), text="rivers")  # fmt: skip
        add_issue(store=store, name="Rivers", keywords=["river"], now=NOW)
    yield db, token


@pytest.fixture(scope="module")
def api_schema(seeded: tuple[str, str]) -> Iterator[BaseSchema]:
    app = create_app(WebSettings(db=seeded[0], now=NOW))
    yield schemathesis.openapi.from_asgi("/openapi.json", app)
    app.state.karmabank.store.close()


EXAMPLES = 10  # per operation and mode: about 20 operations x 2 modes, well under a minute


def test_no_operation_answers_5xx(api_schema: BaseSchema, seeded: tuple[str, str]) -> None:
    """Valid and invalid requests for every operation (schemathesis' pytest plugin is not used:
    its lazy fixture loader needs pytest internals that pytest 9.2 removed)."""
    headers = {"Authorization": f"Bearer {seeded[1]}"}
    failures: list[str] = []
    operations = []
    for result in api_schema.get_all_operations():
        assert isinstance(result, Ok), f"the schema has an invalid operation: {result.err()}"
        operations.append(result.ok())
    assert len(operations) >= 20
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                suppress_health_check=list(HealthCheck), phases=[Phase.generate],
            )  # fmt: skip
            def check(case: schemathesis.Case[Any]) -> None:
                case.call_and_validate(headers=headers, checks=[not_a_server_error])

            try:
                check()
            except Exception as e:  # reported below, with the operation
                failures.append(f"{operation.method.upper()} {operation.path} ({mode.value}): {e}")
    assert not failures, "\n\n".join(failures)


def test_the_schema_covers_the_api(api_schema: BaseSchema) -> None:
    """Schemathesis sees every operation (a route missing from the schema goes untested)."""
    raw = api_schema.raw_schema
    operations = {f"{m.upper()} {p}" for p, ops in raw["paths"].items() for m in ops}
    assert {"GET /api/people", "GET /api/people/{ref}", "POST /api/activities",
            "POST /api/nurture/{item_id}/done", "POST /api/campaigns/{name}/plan",
            "GET /api/status", "GET /api/me"} <= operations  # fmt: skip
    assert {"token", "session"} <= raw["components"]["securitySchemes"].keys()


def test_a_server_error_would_be_caught() -> None:
    """The check this module relies on fails on a 5xx (so the test above can fail); a route
    that raises fails it too (the in-process transport re-raises the exception)."""
    broken = FastAPI()

    @broken.get("/down")
    def down() -> Response:
        return Response("oops", status_code=500)

    @broken.get("/boom")
    def boom() -> dict[str, str]:
        raise RuntimeError("a bug")

    loaded = schemathesis.openapi.from_asgi("/openapi.json", broken)
    with pytest.raises(FailureGroup) as failed:
        loaded["/down"]["GET"].Case().call_and_validate(checks=[not_a_server_error])
    assert [type(e) for e in failed.value.exceptions] == [ServerError]
    with pytest.raises(RuntimeError, match="a bug"):
        loaded["/boom"]["GET"].Case().call_and_validate(checks=[not_a_server_error])
