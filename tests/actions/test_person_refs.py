"""Person references through the real store on SQLite and PostgreSQL, the CLI and the API:
`id:N` is a database id; a bare number is an identity's key first (an edge list's node), else a
database id, and says so when it could mean two people; errors say what was typed; drafts
name the channel only where it reads naturally."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from karmabank.actions.campaigns import new_campaign, respond
from karmabank.actions.importing import import_files
from karmabank.actions.nurture import nurture_queue
from karmabank.actions.people import find_person, resolve_person
from karmabank.actions.person_story import person_detail
from karmabank.actions.recording import record_activity
from karmabank.actions.templates import channel_phrase, render_template, templates, what_they_did
from karmabank.errors import AmbiguousError, ConfigError, NotFoundError
from karmabank.measures.settings import MeasureSettings
from karmabank.model import Direction
from karmabank.store.open import Store, open_store
from tests.cli_helpers import run
from tests.conftest import NOW
from tests.web.test_api import Site, _site

S = MeasureSettings()


def _people(store: Store, tmp_path: Path) -> None:
    """Database ids 1, 2, 3, 4, 5 for other:2, other:1, ada@example.org, other:123, phone:123
    (recorded one after the other: each creates the next id)."""
    at = NOW - timedelta(days=3)
    for who, name in (("other:2", "Node Two"), ("other:1", "Node One"),
                      ("ada@example.org", "Ada"), ("other:123", None), ("phone:123", "Phil")):  # fmt: skip
        record_activity(store=store, direction=Direction.IN, ref=who, verb="comment", at=at,
                        now=NOW, channel="blog", name=name)  # fmt: skip
    with store.sessions() as session:
        assert [find_person(session, f"id:{i}").name for i in (1, 2, 3)] == [
            "Node Two", "Node One", "Ada",
        ]  # fmt: skip


@pytest.fixture
def refs(store: Store, tmp_path: Path) -> Store:
    _people(store, tmp_path)
    return store


def _name(store: Store, ref: str) -> str | None:
    with store.sessions() as session:
        return find_person(session, ref).name


def test_id_prefix_is_the_database_id_and_a_bare_number_an_identity_first(refs: Store) -> None:
    assert _name(refs, "id:2") == "Node One" and _name(refs, "ID: 1") == "Node Two"
    assert _name(refs, "2") == "Node Two"  # node 2 of the edge list, not database id 2
    assert _name(refs, "1") == "Node One"
    assert _name(refs, "3") == "Ada"  # no identity 3: the database id
    with refs.sessions() as session:
        found = resolve_person(session, "2")
        assert found.note == (
            "2 is taken as the identity other:2 (Node Two, id:1); the person with the database "
            "id 2 is Node One, id:2: write id:2 for them"
        )
        assert resolve_person(session, "id:2").note is None
        assert resolve_person(session, "3").note is None
        with pytest.raises(AmbiguousError, match=r"123 is an identity of more than one person "
                           r"\(other:123, phone:123\): write the one you mean"):  # fmt: skip
            resolve_person(session, "123")
        with pytest.raises(NotFoundError, match="no person with id 7"):
            resolve_person(session, "7")
        with pytest.raises(NotFoundError, match="no person with id 9"):
            resolve_person(session, "id:9")
        with pytest.raises(ConfigError, match="id: takes a database id"):
            resolve_person(session, "id:ada")
    note = person_detail(store=refs, ref="2").as_json()["note"]
    assert note.startswith("2 is taken as the identity")
    assert "note" not in person_detail(store=refs, ref="id:2").as_json()


def test_record_takes_id_refs(refs: Store) -> None:
    act = record_activity(store=refs, direction=Direction.GIVE, ref="id:2", verb="thank",
                          at=NOW, now=NOW)  # fmt: skip
    assert act.person_id == 2


def test_campaign_errors_say_what_was_typed(refs: Store) -> None:
    new_campaign(store=refs, name="River day", action="volunteer", budget=5, now=NOW)
    with pytest.raises(ConfigError) as e:
        respond(store=refs, name="River day", ref="ada@example.org", response="yes", now=NOW)
    assert str(e.value) == (
        "person 'ada@example.org' was not asked in campaign 'River day' (send the plan first)"
    )


def test_cli_person_says_which_one_a_number_meant(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with open_store(db_url) as store:
        _people(store, tmp_path)
    now = ["--now", NOW.isoformat()]
    two = run(capsys, "person", "2", "--db", db_url, *now)
    assert two.code == 0 and two.out.startswith("Node Two  person 1"), two.err
    assert two.err == (
        "note: 2 is taken as the identity other:2 (Node Two, id:1); the person with the database "
        "id 2 is Node One, id:2: write id:2 for them\n"
    )
    one = run(capsys, "person", "id:2", "--db", db_url, *now)
    assert one.code == 0 and one.out.startswith("Node One  person 2") and one.err == ""
    both = run(capsys, "person", "123", "--db", db_url, *now)
    assert both.code == 1 and both.err.count("\n") == 1
    assert both.err.startswith("error: 123 is an identity of more than one person")


@pytest.fixture
def refs_site(db_url: str, tmp_path: Path) -> Iterator[Site]:
    with open_store(db_url) as store:
        _people(store, tmp_path)
    yield from _site(db_url)


def test_api_person_routes_take_the_same_refs(refs_site: Site) -> None:
    org = refs_site.as_("organizer")
    by_id = refs_site.client.get("/api/people/id:2", headers=org)
    assert by_id.status_code == 200 and by_id.json()["name"] == "Node One"
    assert "note" not in by_id.json()
    by_node = refs_site.client.get("/api/people/2", headers=org)
    assert by_node.status_code == 200 and by_node.json()["name"] == "Node Two"
    assert by_node.json()["note"].endswith("write id:2 for them")
    both = refs_site.client.get("/api/people/123", headers=org)
    assert both.status_code == 409, both.text
    assert "more than one person" in both.json()["detail"]
    flag = refs_site.client.post("/api/people/id:2/flags", json={"flag": "team"}, headers=org)
    assert flag.status_code == 200, flag.text
    assert refs_site.client.get("/api/people/id:2", headers=org).json()["flags"]["team"] is True


def test_thank_you_drafts_read_naturally_for_every_channel(store: Store) -> None:
    assert what_they_did("answer", "other") == "your answer"
    assert what_they_did("donate", "donations") == "your donation"
    assert what_they_did("comment", "mastodon") == "your comment on Mastodon"
    assert what_they_did("share", "Email") == "your share by email"
    assert what_they_did("x-cheer", "forum") == "what you did"
    assert channel_phrase("other") == channel_phrase("something-new") == channel_phrase(None) == ""
    env = templates(store, "nurture")
    context = {"hi": "Hi Ada", "campaign": "", "org": "us"}
    for verb, channel in (("answer", "other"), ("donate", "other"), ("x-cheer", "whatever")):
        draft = render_template(env, ["thank"], {**context, "what": what_they_did(verb, channel)},
                                "nurture thank")  # fmt: skip
        assert " on other" not in draft and " on whatever" not in draft
        assert draft.startswith("Hi Ada, thank you for ") and "!" in draft


def test_the_queue_thanks_a_donation_on_other(store: Store, tmp_path: Path) -> None:
    day = (NOW - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    old = (NOW - timedelta(days=200)).strftime("%Y-%m-%dT%H:%M:%SZ")
    f = tmp_path / "gift.csv"
    f.write_text("occurred_at,person,name,verb,direction,channel\n"
                 f"{old},gia@example.org,Gia Giver,comment,in,blog\n"
                 f"{day},gia@example.org,Gia Giver,donate,in,other\n")  # fmt: skip
    import_files(store=store, fmt="csv", paths=[f], options={}, now=NOW)
    items = {i.person["name"]: i for i in nurture_queue(store=store, now=NOW, settings=S)}
    assert items["Gia Giver"].kind == "thank"
    assert items["Gia Giver"].draft == "Hi Gia, thank you for your donation! It means a lot to us."


def test_pages_link_people_by_database_id_and_show_the_note(refs_site: Site) -> None:
    """Every page links a person as /people/id:N (a bare /people/2 is node 2 on an edge list)."""
    from tests.web.test_pages import form_login

    client = refs_site.client
    form_login(client, "organizer")
    listing = client.get("/people").text
    assert 'href="/people/id:2"' in listing and 'href="/people/2"' not in listing
    by_id = client.get("/people/id:2")
    assert by_id.status_code == 200 and "<h1>Node One</h1>" in by_id.text
    by_node = client.get("/people/2")
    assert by_node.status_code == 200 and "<h1>Node Two</h1>" in by_node.text
    assert "write id:2 for them" in by_node.text
