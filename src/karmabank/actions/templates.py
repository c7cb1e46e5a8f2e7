"""Message drafts from editable Jinja2 templates (karmabank drafts; a person sends).

`templates/<folder>/<name>.txt.j2` is looked up first in `$KARMABANK_TEMPLATES`, then in a
`templates/` folder beside a SQLite database, then in the built-ins: copy a built-in there and
edit it to change every draft of its kind.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jinja2
from sqlalchemy.engine import make_url

from karmabank.errors import ConfigError
from karmabank.store.open import Store


def templates(store: Store, folder: str) -> jinja2.Environment:
    """The template environment of `folder` (`nurture`, `campaign`) for this database."""
    folders: list[str] = []
    if os.environ.get("KARMABANK_TEMPLATES"):
        folders.append(str(Path(os.environ["KARMABANK_TEMPLATES"]) / folder))
    parsed = make_url(store.url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        folders.append(str(Path(str(parsed.database)).resolve().parent / "templates" / folder))
    loader = jinja2.ChoiceLoader(
        [jinja2.FileSystemLoader(folders), jinja2.PackageLoader("karmabank", f"templates/{folder}")]
    )
    return jinja2.Environment(
        loader=loader,
        autoescape=False,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=False,
    )


def render_template(
    env: jinja2.Environment, names: Sequence[str], context: dict[str, Any], what: str
) -> str:
    """The first of `names` (without `.txt.j2`) that exists, rendered with `context`."""
    try:
        return env.select_template([f"{n}.txt.j2" for n in names]).render(**context).strip()
    except jinja2.TemplateError as e:
        raise ConfigError(f"{what} template: {e}") from None


def first_name(name: str | None) -> str:
    """The first word of a name ("" when unknown: templates then leave it out)."""
    return name.split()[0] if name and name.split() else ""
