"""The nurture rules are a table (`measures.nurture_rules.RULES`): a kind of item is one rule, one
draft template and one row in docs/nurture.md's table, with a default priority. They must agree:
no rule without its template, row and priority, and no template, row or priority without a rule."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from karmabank.measures import nurture_rules
from karmabank.measures.settings import MeasureSettings
from tests.measures.helpers import NOW

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "src" / "karmabank" / "templates" / "nurture"
KINDS = [r.kind for r in nurture_rules.RULES]


def docs_kinds() -> list[str]:
    """The kinds docs/nurture.md's rules table lists, in its order."""
    text = (ROOT / "docs" / "nurture.md").read_text(encoding="utf-8")
    return re.findall(r"^\| `(\w+)` \|", text, flags=re.MULTILINE)


def test_one_rule_per_kind() -> None:
    assert len(KINDS) == len(set(KINDS))


def test_every_rule_has_a_template_and_every_template_a_rule() -> None:
    names = [p.name for p in TEMPLATES.glob("*.txt.j2")]
    assert {n.split(".")[0] for n in names} == set(KINDS)  # <kind>[.<channel>].txt.j2
    assert {f"{k}.txt.j2" for k in KINDS} <= set(names)  # the fallback for any channel


def test_every_rule_has_a_docs_row_and_every_row_a_rule() -> None:
    assert docs_kinds() == KINDS  # the same kinds, in the same order


def test_every_rule_has_a_default_priority_and_every_priority_a_rule() -> None:
    assert set(MeasureSettings().nurture.priorities) == set(KINDS)


def test_every_rule_gives_its_whole_key_and_it_reads_back() -> None:
    """Each of a rule's SELECTs names every part of its key; `key_parts` reads a key back by the
    rule's parts; an unknown kind is an error, not a silent item."""
    w = nurture_rules.Window.at(NOW - timedelta(days=1), MeasureSettings())
    sql = nurture_rules.items_sql(w)
    assert sql.count("SELECT '") == sum(len(r.items(w)) for r in nurture_rules.RULES)
    assert nurture_rules.key_parts("thank_ask:5") == {"ask_id": "5"}
    assert nurture_rules.key_parts("share:7:2") == {"activity_id": "7", "issue_id": "2"}
    assert nurture_rules.key_parts("celebrate:3:tenure-2") == {"person_id": "3",
                                                              "note": "tenure-2"}  # fmt: skip
    with pytest.raises(ValueError, match="unknown nurture kind"):
        nurture_rules.rule("hug")


def test_each_sentence() -> None:
    """What each rule says about an item, from its facts (the queue's tests check them through
    the store too)."""
    say = {r.kind: r.sentence for r in nurture_rules.RULES}
    facts = nurture_rules.Facts
    reply = say["reply"](facts("", "forum", verb="comment", text=" Hi! ", when="today"))
    assert (reply.reason, reply.next_step) == ("comment on forum today, not answered yet",
                                               'answer: "Hi!"')  # fmt: skip
    back = say["welcome_back"](facts("94", "blog", verb="like", when="yesterday"))
    assert back.reason == "back after 94 days of silence (a like, yesterday)"
    assert back.context == {"days": 94}
    year = say["celebrate"](facts("tenure-2", None))
    assert (year.reason, year.context) == ("2 year(s) with us this week: celebrate", {"years": 2})
    stage = say["celebrate"](facts("stage-advocate", None))
    assert (stage.reason, stage.context) == ("became an advocate: celebrate",
                                             {"stage": "an advocate"})  # fmt: skip
    ask = say["thank_ask"](facts("Spring", None))
    assert ask.context == {"campaign": "Spring", "what": 'acting on "Spring"'}
