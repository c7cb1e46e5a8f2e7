"""HTML pages from Jinja2 templates in `web/templates/`, always autoescaped: every piece of
imported text a page shows is escaped."""

from __future__ import annotations

from functools import cache
from typing import Any

import jinja2
from fastapi.responses import HTMLResponse


@cache
def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("karmabank.web", "templates"),
        autoescape=True,  # every template, whatever its name
        undefined=jinja2.StrictUndefined,
    )


def page(name: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    return HTMLResponse(environment().get_template(name).render(context), status_code=status)
