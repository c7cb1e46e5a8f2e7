"""One person across channels: `merge A B`, `merge list`, `merge never A B`, `unmerge ID`.

`merge` is a group (its subcommands: `pair`, `list`, `never`, and the matcher's) that also
takes two persons directly: `_PairDefault` reads `merge A B` as `merge pair A B` when the first
word is not one of its commands (a person named like a command: `merge pair list B`).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from karmabank.cli import render
from karmabank.cli.merge_suggestions import suggestions
from karmabank.cli.options import Db, Json, Now, opened
from karmabank.cli.output import print_json
from karmabank.errors import OptionError

DECIDED_BY = "cli"  # who decided a merge made at the command line


class _PairDefault(TyperGroup):
    """A group whose first word, when not a command nor an option, starts `pair`'s arguments."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:  # typer's own click Context
        if args and not args[0].startswith("-") and args[0] not in self.commands:
            args = ["pair", *args]
        return super().parse_args(ctx, args)


merge_app = typer.Typer(
    cls=_PairDefault,
    help=(
        "Merge two persons into one: `karmabank merge A B [--why TEXT]` (the same as `merge "
        "pair`); list, undo (`karmabank unmerge ID`), mark pairs never to merge, find who may "
        "be one (`suggestions`), apply the sure ones (`auto`)."
    ),
    no_args_is_help=True,
)

Ref = Annotated[str, typer.Argument(metavar="PERSON", help="An id (id:N), identity or name.")]
Why = Annotated[str | None, typer.Option(help="Why (kept with the merge).")]


@merge_app.command("pair")
def merge_pair(
    a: Ref, b: Ref, why: Why = None, db: Db = None, now: Now = None, json_: Json = False
) -> None:
    """Merge two persons into one (the one with the higher id is kept); undo with unmerge."""
    from karmabank.actions.merging import merge_people

    with opened(db, now) as (store, settings):
        m = merge_people(
            store=store, a=a, b=b, why=why, decided_by=DECIDED_BY, now=settings.clock()
        )
    if json_:
        print_json(m.as_json())
        return
    render.console().print(
        f"merge {m.id}: {_who(m.absorbed)} merged into {_who(m.kept)} "
        f"(undo: karmabank unmerge {m.id})",
        soft_wrap=True,
    )


@merge_app.command("list")
def merge_list(db: Db = None, json_: Json = False) -> None:
    """Every merge, oldest first: when, who decided, why, the persons, whether undone."""
    from karmabank.actions.merging import list_merges

    with opened(db) as (store, _settings):
        merges = list_merges(store=store)
    if json_:
        print_json([m.as_json() for m in merges])
        return
    out = render.console()
    if not merges:
        out.print("no merges")
    for m in merges:
        undone = f", undone {m.undone_at.isoformat()}" if m.undone_at else ""
        why = f": {render.safe(m.why)}" if m.why else ""
        out.print(
            f"{m.id}  {m.at.isoformat()}  {_who(m.absorbed)} into {_who(m.kept)} "
            f"by {render.safe(m.decided_by)}{why}{undone}",
            soft_wrap=True,  # one line per merge, whatever the width
        )


@merge_app.command("never")
def merge_never(a: Ref, b: Ref, why: Why = None, db: Db = None, now: Now = None) -> None:
    """Mark two persons as never to merge, nor to suggest."""
    from karmabank.actions.merging import merge_never as never

    with opened(db, now) as (store, settings):
        pair = never(store=store, a=a, b=b, why=why, decided_by=DECIDED_BY, now=settings.clock())
    render.console().print(
        f"never merged: {_who(pair.a.as_json())} and {_who(pair.b.as_json())}", soft_wrap=True
    )


def unmerge(
    merge_id: Annotated[str, typer.Argument(metavar="MERGE_ID", help="From `merge list`.")],
    db: Db = None,
    now: Now = None,
) -> None:
    """Undo a merge exactly: each person back with what they had."""
    from karmabank.actions.merging import unmerge as undo

    with opened(db, now) as (store, settings):
        m = undo(store=store, merge_id=merge_id, decided_by=DECIDED_BY, now=settings.clock())
    render.console().print(
        f"unmerged {m.id}: {_who(m.kept)} and {_who(m.absorbed)} again", soft_wrap=True
    )


def _who(person: dict[str, object]) -> str:
    name = person.get("name")
    return f"{render.safe(name)} (id:{person['id']})" if name else f"id:{person['id']}"


merge_app.command("suggestions")(suggestions)  # the matcher's: cli/merge_suggestions.py


@merge_app.command("shared")
def merge_shared(
    limit: Annotated[int | None, typer.Option(help="At most this many identities.")] = None,
    db: Db = None,
    json_: Json = False,
) -> None:
    """Identities seen with several people's names (a shared mailbox): possibly several
    people, for a person to review. Changes nothing."""
    from karmabank.actions.shared_identities import shared_identities

    if limit is not None and limit < 1:
        raise OptionError("limit", "must be at least 1")
    with opened(db) as (store, _settings):
        found = shared_identities(store=store, limit=limit)
    if json_:
        print_json([f.as_json() for f in found])
        return
    out = render.console()
    if not found:
        out.print("no identity seen with several people's names")
    for f in found:
        names = ", ".join(render.safe(n) for n in f.names)
        out.print(f"{render.safe(f.identity)} of {_who(f.person.as_json())}: {names}",
                  soft_wrap=True)  # fmt: skip


@merge_app.command("auto")
def merge_auto(
    min_confidence: Annotated[
        float | None,
        typer.Option(
            "--min-confidence",
            help="Only suggestions at least this probable (0-1; default "
            "linkage.auto_min_probability, 0.99).",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List what would be merged; change nothing.")
    ] = False,
    db: Db = None,
    now: Now = None,
    json_: Json = False,
) -> None:
    """Apply the open `auto` suggestions (run `merge suggestions` first), each an audited
    merge by `auto` that `unmerge` undoes."""
    from karmabank.actions.merge_auto import merge_auto as apply

    if min_confidence is not None and not 0.0 <= min_confidence <= 1.0:
        raise OptionError("min_confidence", "must be between 0 and 1")
    with opened(db, now) as (store, settings):
        run = apply(
            store=store, settings=settings.measures.linkage, now=settings.clock(),
            min_confidence=min_confidence, dry_run=dry_run,
        )  # fmt: skip
    if json_:
        print_json(run.as_json())
        return
    out = render.console()
    for step in run.merged:
        pair = f"{_who(step.absorbed)} into {_who(step.kept)}"
        if step.merge is None:
            out.print(f"would merge {pair} (suggestion {step.suggestion}, "
                      f"{step.confidence:.3f})", soft_wrap=True)  # fmt: skip
        else:
            out.print(f"merge {step.merge}: {pair} (suggestion {step.suggestion}, "
                      f"{step.confidence:.3f}; undo: karmabank unmerge {step.merge})",
                      soft_wrap=True)  # fmt: skip
    for step in run.skipped:
        out.print(f"skipped suggestion {step.suggestion} ({step.confidence:.3f}), "
                  f"{_who(step.absorbed)} ~ {_who(step.kept)}: {render.safe(step.skipped or '')}",
                  soft_wrap=True)  # fmt: skip
    verb = "would merge" if run.dry_run else "merged"
    one = f", {len(run.already_one)} already one person" if run.already_one else ""
    out.print(f"{verb} {len(run.merged)}, skipped {len(run.skipped)}{one} of the open auto "
              f"suggestions at confidence >= {run.min_confidence:g}", soft_wrap=True)  # fmt: skip
