"""`karmabank erase PERSON [--yes]`: a supporter's right to be forgotten (`actions/erasure.py`).

Without `--yes` the person and what goes are shown and the answer read from the terminal; with
no terminal to ask (a script, a pipe) the command refuses rather than guess.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from karmabank.cli import render
from karmabank.cli.options import Db, Json, Now, opened
from karmabank.cli.output import print_json
from karmabank.errors import ConfigError


def erase(
    ref: Annotated[str, typer.Argument(metavar="PERSON", help="An id, identity or unique name.")],
    yes: Annotated[bool, typer.Option("--yes", help="Erase without asking.")] = False,
    db: Db = None,
    now: Now = None,
    json_: Json = False,
) -> None:
    """Erase a person for good: names, identities, activities; a tombstone keeps them out."""
    from karmabank.actions.erasure import erase_person, erasure_target

    with opened(db, now) as (store, settings):
        target = erasure_target(store=store, ref=ref)
        if not yes:
            _confirm(target.shown, target.activities, len(target.identities), target.asks)
        done = erase_person(store=store, ref=f"id:{target.person_id}", now=settings.clock(),
                            actor="cli", settings=settings.measures)  # fmt: skip
    if json_:
        print_json(done.as_json())
        return
    out = render.console()
    removed = done.removed
    out.print(
        f"Erased {render.safe(target.shown)}: {_n(removed.get('identity', 0), 'identity')}, "
        f"{_n(removed.get('activity', 0), 'activity')}, "
        f"{_n(sum(done.mentions.values()), 'mention')} elsewhere",
        soft_wrap=True,
    )
    keeps = "keeps" if done.tombstones == 1 else "keep"
    out.print(f"{_n(done.tombstones, 'tombstone')} {keeps} them from coming back")
    if target.asks:
        out.print(f"{_n(target.asks, 'ask')} kept without their text: campaigns' counts stay")
    out.print("scores recomputed" if done.rescored else "run `karmabank rescore`")


def _n(n: int, word: str) -> str:
    plural = word[:-1] + "ies" if word.endswith("y") else word + "s"
    return f"{n:,} {word if n == 1 else plural}"


def _confirm(shown: str, activities: int, identities: int, asks: int) -> None:
    if not sys.stdin.isatty():
        raise ConfigError("erase asks for confirmation at a terminal: pass --yes to erase")
    print(
        f"Erase {render.plain(shown)}: {_n(identities, 'identity')}, "
        f"{_n(activities, 'activity')} and every mention elsewhere; {_n(asks, 'ask')} kept "
        "without text. This cannot be undone.",
        file=sys.stderr,
    )
    answer = input("Erase? [y/N] ").strip().lower()
    if answer not in ("y", "yes"):
        raise ConfigError("not erased (answer y to erase)")
