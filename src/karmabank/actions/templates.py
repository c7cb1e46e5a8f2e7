"""Message drafts from editable Jinja2 templates (karmabank drafts; a person sends).

`templates/<folder>/<name>.txt.j2` is looked up first in `$KARMABANK_TEMPLATES` (read at the
edge: `Store.templates_dir`), then in a `templates/` folder beside a SQLite database, then in the
built-ins: copy a built-in there and edit it to change every draft of its kind.
"""

from __future__ import annotations

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
    if store.templates_dir is not None:
        folders.append(str(store.templates_dir / folder))
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


# How a draft names where someone did something ("your comment on Mastodon"): only for the
# channels that read naturally; for `other`, an unknown channel or none, nothing is said.
_CHANNEL_PHRASES = {
    "email": "by email", "web": "on our website", "blog": "on the blog",
    "mastodon": "on Mastodon", "bluesky": "on Bluesky", "x": "on X", "linkedin": "on LinkedIn",
    "github": "on GitHub", "phone": "on the phone", "event": "at the event",
    "events": "at the event", "forum": "on the forum", "newsletter": "on the newsletter",
}  # fmt: skip
# What someone did, as a noun a thank-you can name ("thank you for your donation").
_VERB_NOUNS = {
    "comment": "comment", "reply": "reply", "share": "share", "mention": "mention",
    "like": "like", "follow": "follow", "donate": "donation", "register": "registration",
    "attend": "coming", "sign": "signature", "volunteer": "help", "organize": "organizing",
    "answer": "answer", "interact": "message", "help": "help", "introduce": "introduction",
}  # fmt: skip


def channel_phrase(channel: str | None) -> str:
    """" on Mastodon", " by email"...: where, for a draft; "" when it would not read well."""
    phrase = _CHANNEL_PHRASES.get((channel or "").strip().lower())
    return f" {phrase}" if phrase else ""


def thing_they_did(verb: str | None) -> str:
    """"comment", "donation"...: what someone did as a noun ("message" for a verb without one)."""
    return _VERB_NOUNS.get((verb or "").strip().lower(), "message")


def what_they_did(verb: str | None, channel: str | None) -> str:
    """"your comment on Mastodon", "your donation", "what you did": for a thank-you draft."""
    noun = _VERB_NOUNS.get((verb or "").strip().lower())
    return f"your {noun}{channel_phrase(channel)}" if noun else "what you did"
