"""HTML pages from Jinja2 templates in `web/templates/`, always autoescaped: every piece of
imported text a page shows is escaped."""

from __future__ import annotations

from functools import cache
from typing import Any

import jinja2
from fastapi.responses import HTMLResponse

from karmabank.identities import display_name


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("karmabank.web", "templates"),
        autoescape=True,  # every template, whatever its name
        undefined=jinja2.StrictUndefined,
    )
    env.globals["named"] = who
    return env


def who(person: dict[str, Any]) -> str:
    """`named(p)` in a template: a person object's name, else their best identity."""
    return display_name(person.get("name"), person.get("identities") or (), person["id"])


def page(name: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    return HTMLResponse(environment().get_template(name).render(context), status_code=status)
