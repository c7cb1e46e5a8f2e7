"""Per-channel opt-outs on both backends: a person opted out of every channel they have is left
out of a campaign plan (`opted_out`) and refused at send; one with another channel is asked on
that one; drafts are signed with the organization's name; the nurture queue suggests nothing
about an activity on a channel its person opted out of, nor anything for one opted out of every
channel."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from karmabank.actions.campaigns import new_campaign, send_campaign
from karmabank.actions.mobilization import plan_campaign
from karmabank.actions.nurture import nurture_queue
from karmabank.actions.opt_outs import ask_channels, set_opt_out
from karmabank.actions.organization import set_org_name
from karmabank.actions.people import find_person
from karmabank.actions.person_story import person_detail
from karmabank.errors import ConfigError, NotFoundError
from karmabank.store.open import Store
from karmabank.store.tables import Activity, AuditLog, Identity
from tests.actions import test_campaigns, test_nurture
from tests.actions.test_campaigns import S, names
from tests.conftest import NOW

world = test_campaigns.network  # the campaign tests' network, as this module's fixture
quiet_world = test_nurture.network  # the nurture tests' one

HUB = "hub@example.org"


def _opt_out(store: Store, ref: str, channel: str, on: bool = True) -> bool:
    return set_opt_out(store=store, ref=ref, channel=channel, on=on, now=NOW, actor="test").changed


def test_opted_out_of_their_only_channel_they_are_left_out_and_say_why(world: Store) -> None:
    new_campaign(store=world, name="Drive", action="share", budget=3, now=NOW)
    before = plan_campaign(store=world, name="Drive", now=NOW, settings=S)
    assert names([a.person for a in before.asks])[0] == "Hub Host"
    assert _opt_out(world, HUB, "email") is True  # Hub's only identity is an email
    assert _opt_out(world, HUB, "Email") is False  # already: one opt-out per channel
    plan = plan_campaign(store=world, name="Drive", now=NOW, settings=S)
    assert "Hub Host" not in names([a.person for a in plan.asks])
    rules = {e["person"]["name"]: e["rule"] for e in plan.excluded}
    assert rules["Hub Host"] == "opted_out"
    assert rules["Dan Never"] == "do_not_contact"  # the ledger's rule comes first
    assert plan.excluded_by_rule["opted_out"] == 1
    assert _opt_out(world, HUB, "email", on=False) is True
    again = plan_campaign(store=world, name="Drive", now=NOW, settings=S)
    assert names([a.person for a in again.asks])[0] == "Hub Host"


def test_another_channel_stays_possible_and_the_ask_goes_there(world: Store) -> None:
    with world.sessions.begin() as s:
        hub = find_person(s, HUB)
        s.add(Identity(person_id=hub.id, platform="mastodon", key="@hub@social.example"))
    _opt_out(world, HUB, "email")
    set_org_name(store=world, name="River  Friends ", now=NOW, actor="test")
    new_campaign(store=world, name="Drive", action="share", budget=3, now=NOW)
    plan = plan_campaign(store=world, name="Drive", now=NOW, settings=S)
    by_name = {a.person["name"]: a for a in plan.asks}
    assert "Warm regards" not in by_name["Hub Host"].draft  # the Mastodon draft, not email's
    others = [a for n, a in by_name.items() if n != "Hub Host"]
    assert others and all(a.draft.endswith("Warm regards,\nRiver Friends") for a in others)
    send_campaign(store=world, name="Drive", now=NOW)
    with world.sessions() as s:
        channel = s.scalar(
            select(Activity.channel).where(
                Activity.person_id == by_name["Hub Host"].person["id"],
                Activity.verb == "share",
                Activity.direction == "ask",
            )
        )
    assert channel == "mastodon"


def test_send_refuses_who_opted_out_of_everything_since_the_plan(world: Store) -> None:
    new_campaign(store=world, name="Drive", action="share", budget=3, now=NOW)
    plan = plan_campaign(store=world, name="Drive", now=NOW, settings=S)
    first = plan.asks[0].person
    _opt_out(world, f"id:{first['id']}", "email")
    sent = send_campaign(store=world, name="Drive", now=NOW)
    assert first["id"] not in [p["id"] for p in sent.sent]
    assert {"person": first, "reason": "opted out of every channel they have"} in sent.refused


def test_optout_is_audited_shown_on_the_person_and_refuses_bad_input(world: Store) -> None:
    _opt_out(world, HUB, "mastodon")
    _opt_out(world, HUB, "email")
    story = person_detail(store=world, ref=HUB)
    assert story.opt_outs == ("email", "mastodon")
    assert story.as_json()["opt_outs"] == ["email", "mastodon"]
    with world.sessions() as s:
        entries = s.scalars(select(AuditLog.details).where(AuditLog.action == "optout")).all()
    assert len(entries) == 2
    with pytest.raises(ConfigError, match="is not a channel name"):
        _opt_out(world, HUB, "e mail!")
    with pytest.raises(NotFoundError):
        _opt_out(world, "nobody@example.org", "email")


def test_ask_channels_keep_the_identities_order() -> None:
    ids = ["email:a@example.org", "mastodon:@a@x.example", "email:b@example.org"]
    assert ask_channels(ids, []) == ["email", "mastodon"]
    assert ask_channels(ids, ["email"]) == ["mastodon"]
    assert ask_channels(ids, ["email", "mastodon"]) == []
    assert ask_channels([], []) == ["other"]
    assert ask_channels([], ["sms"]) == []


def test_the_nurture_queue_respects_opt_outs(quiet_world: Store) -> None:
    def queue() -> dict[str, tuple[str, str | None]]:
        items = nurture_queue(store=quiet_world, now=NOW, settings=S, limit=50)
        return {i.person["name"]: (i.kind, i.channel) for i in items}

    before = queue()
    assert before["Nia New"] == ("reply", "blog")
    assert before["Gia Giver"] == ("thank", "donations")
    assert before["Dee Dee"][0] == "check_in"
    _opt_out(quiet_world, "nia@example.org", "blog")  # where she asked
    _opt_out(quiet_world, "gia@example.org", "donations")
    _opt_out(quiet_world, "dee@example.org", "email")  # Dee's only channel
    after = queue()
    assert after.get("Nia New", ("", None))[1] != "blog"
    assert after.get("Gia Giver", ("", None))[1] != "donations"
    assert "Dee Dee" not in after
    others = {n: v for n, v in before.items() if n not in ("Nia New", "Gia Giver", "Dee Dee")}
    assert {n: after[n] for n in others} == others  # nobody else changed
