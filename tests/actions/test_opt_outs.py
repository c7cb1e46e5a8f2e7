"""Per-channel opt-outs on both backends: a person opted out of every channel they have is left
out of a campaign plan (`opted_out`) and refused at send; one with another channel is asked on
that one, and the reasons say so; drafts are signed with the organization's name; the nurture
queue never suggests writing on a channel its person opted out of (the item goes through
another of theirs, saying so), nor anything for one opted out of every channel; the person's
ledger (and the API's) applies opt-outs to the stored ask-readiness."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from karmabank.actions.campaigns import new_campaign, send_campaign
from karmabank.actions.mobilization import plan_campaign
from karmabank.actions.nurture import nurture_queue
from karmabank.actions.opt_outs import Consent, ask_channels, set_opt_out
from karmabank.actions.organization import set_org_name
from karmabank.actions.people import find_person
from karmabank.actions.person_story import person_detail
from karmabank.actions.relationships import person_scores
from karmabank.errors import ConfigError, NotFoundError
from karmabank.store.open import Store
from karmabank.store.tables import Activity, AuditLog, Identity
from tests.actions import test_campaigns, test_nurture
from tests.actions.test_campaigns import S, names
from tests.conftest import NOW
from tests.web.test_api import _site

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
    def queue() -> dict[str, tuple[str, str | None, str]]:
        items = nurture_queue(store=quiet_world, now=NOW, settings=S, limit=50)
        return {i.person["name"]: (i.kind, i.channel, i.reason) for i in items}

    before = queue()
    assert before["Nia New"][:2] == ("reply", "blog")
    assert before["Gia Giver"][:2] == ("thank", "donations")
    assert before["Dee Dee"][0] == "check_in"
    _opt_out(quiet_world, "nia@example.org", "blog")  # where she asked
    _opt_out(quiet_world, "gia@example.org", "donations")
    _opt_out(quiet_world, "dee@example.org", "email")  # Dee's only channel
    after = queue()
    # the same items, written on the channel they have and did not opt out of, saying so
    assert after["Nia New"] == ("reply", "email", before["Nia New"][2]
                                + "; opted out of blog: write on email")  # fmt: skip
    assert after["Gia Giver"] == ("thank", "email", before["Gia Giver"][2]
                                  + "; opted out of donations: write on email")  # fmt: skip
    assert "Dee Dee" not in after  # nothing left to write on
    others = {n: v for n, v in before.items() if n not in ("Nia New", "Gia Giver", "Dee Dee")}
    assert {n: after[n] for n in others} == others  # nobody else changed
    _opt_out(quiet_world, "dee@example.org", "email", on=False)
    assert queue()["Dee Dee"] == before["Dee Dee"]


def test_an_item_on_a_channel_they_kept_says_what_they_opted_out_of(quiet_world: Store) -> None:
    _opt_out(quiet_world, "nia@example.org", "mastodon")  # not where she wrote
    items = {i.person["name"]: i for i in nurture_queue(store=quiet_world, now=NOW, settings=S,
                                                         limit=50)}  # fmt: skip
    nia = items["Nia New"]
    assert (nia.kind, nia.channel) == ("reply", "blog")
    assert nia.reason.endswith("; opted out of mastodon: write on blog")


def test_the_plan_says_where_the_ask_goes_and_why(world: Store) -> None:
    with world.sessions.begin() as s:
        hub = find_person(s, HUB)
        s.add(Identity(person_id=hub.id, platform="mastodon", key="@hub@social.example"))
    _opt_out(world, HUB, "email")
    new_campaign(store=world, name="Drive", action="share", budget=3, now=NOW)
    plan = plan_campaign(store=world, name="Drive", now=NOW, settings=S)
    by_name = {a.person["name"]: a for a in plan.asks}
    assert by_name["Hub Host"].reason.endswith("; opted out of email: ask on mastodon")
    assert not any("opted out" in a.reason for n, a in by_name.items() if n != "Hub Host")


def test_the_ledger_applies_opt_outs_to_the_stored_scores(world: Store) -> None:
    def ledger() -> dict[str, object]:
        scores = person_scores(store=world, ref=HUB, now=NOW, settings=S).as_json()
        return dict(scores["ledger"])

    ready = ledger()
    assert (ready["ask_ready"], ready["rule"]) == (True, None)
    _opt_out(world, HUB, "email")  # his only channel: no rescore needed to see it
    out = ledger()
    assert (out["ask_ready"], out["rule"]) == (False, "opted_out")
    assert str(out["why"]).endswith(
        "not ready for an ask (they opted out of every channel they have)"
    )
    with world.sessions.begin() as s:
        hub = find_person(s, HUB)
        s.add(Identity(person_id=hub.id, platform="mastodon", key="@hub@social.example"))
    back = ledger()
    assert (back["ask_ready"], back["rule"]) == (True, None)
    assert str(back["why"]).endswith("ready for an ask; opted out of email: ask on mastodon")
    _opt_out(world, "dan@example.org", "email")  # the ledger's own rules come first
    dan = person_scores(store=world, ref="dan@example.org", now=NOW, settings=S).as_json()
    assert dan["ledger"]["rule"] == "do_not_contact"


def test_the_api_applies_them_too(world: Store, db_url: str) -> None:
    _opt_out(world, HUB, "email")
    new_campaign(store=world, name="Drive", action="share", budget=3, now=NOW)
    world.engine.dispose()  # the app's store is the one writer from here on
    for site in _site(db_url):
        person = site.client.get(f"/api/people/{HUB}", headers=site.as_("viewer"))
        assert person.status_code == 200, person.text
        ledger = person.json()["ledger"]
        assert (ledger["ask_ready"], ledger["rule"]) == (False, "opted_out")
        assert person.json()["opt_outs"] == ["email"]
        plan = site.client.post("/api/campaigns/Drive/plan", headers=site.as_("organizer"))
        assert plan.status_code == 200, plan.text
        body = plan.json()
        assert "Hub Host" not in [a["person"]["name"] for a in body["asks"]]
        left = {e["person"]["name"]: e["rule"] for e in body["excluded"]}
        assert left["Hub Host"] == "opted_out"


def test_consent_routes_and_says_so() -> None:
    c = Consent.of(["email:a@example.org", "mastodon:@a@x.example"], ["email"])
    assert (c.opted_out, c.channels, c.nowhere) == (("email",), ("mastodon",), False)
    assert (c.route("email"), c.route("blog"), c.route(None)) == ("mastodon", "blog", None)
    assert c.note("mastodon", "ask") == "opted out of email: ask on mastodon"
    assert c.note(None) == "opted out of email"
    assert Consent.of([], []).note("other") == ""
    assert Consent.of(["email:a@example.org"], ["email", "sms"]).nowhere
