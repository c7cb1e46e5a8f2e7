"""CSV presets (`karmabank import csv --preset NAME`) on header-exact fixtures of each platform's
export, each with a messy variant (BOM, CRLF, semicolons, localized dates):
tests/sources/fixtures/csv-presets/."""

from __future__ import annotations

import hashlib
import shutil
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from karmabank.actions.importing import import_files
from karmabank.errors import ConfigError, InputFileError
from karmabank.model import IdentityKey, to_micros
from karmabank.sources.base import BadRow, InputFile, OptOutRow, ParsedRow, SkippedRow, SourceItem
from karmabank.sources.csv_source import CsvSource
from karmabank.sources.presets import Preset, names
from karmabank.store.open import Store, open_store
from karmabank.store.org_tables import OptOut
from karmabank.store.tables import Activity, Identity

FIXTURES = Path(__file__).parent / "fixtures" / "csv-presets"
NOW = datetime(2026, 6, 1, tzinfo=UTC)


def read(name: str, preset: str, **options: str) -> list[SourceItem]:
    with InputFile(FIXTURES / name) as f:
        return list(CsvSource({"preset": preset, **options}).read(f))


def rows(items: list[SourceItem]) -> list[ParsedRow]:
    return [i for i in items if isinstance(i, ParsedRow)]


def kinds(items: list[SourceItem]) -> Counter[str]:
    out: Counter[str] = Counter()
    for i in items:
        if isinstance(i, ParsedRow):
            out[f"{i.verb} {i.direction}"] += 1
        elif isinstance(i, SkippedRow):
            out[f"skipped: {i.reason}"] += 1
        else:
            out[type(i).__name__] += 1
    return out


def at(text: str) -> int:
    return to_micros(datetime.fromisoformat(text).replace(tzinfo=UTC))


def email(address: str) -> IdentityKey:
    return IdentityKey("email", address)


def test_the_built_in_presets() -> None:
    assert names() == [
        "civicrm-contributions", "discourse", "eventbrite", "mailchimp-activity",
        "mailchimp-audience", "meetup", "stripe",
    ]  # fmt: skip


def test_mailchimp_audience_subscribers_follow_the_newsletter() -> None:
    items = read("mailchimp-subscribed.csv", "mailchimp-audience")
    assert kinds(items) == {"follow in": 2, "BadRow": 2}
    ada, bo = rows(items)
    assert (ada.person, ada.name, ada.channel, ada.object) == (
        email("ada@example.org"), "Ada Lovelace", "email", "newsletter",
    )  # fmt: skip
    assert ada.occurred_at == at("2021-03-04 12:34:56")  # CONFIRM_TIME before OPTIN_TIME
    assert ada.source_key == "mailchimp-audience:101"
    assert (bo.person, bo.name) == (email("bo@example.org"), "Bo")
    assert bo.occurred_at == at("2021-05-01 08:00:00")  # no CONFIRM_TIME: OPTIN_TIME
    bad = [i for i in items if isinstance(i, BadRow)]
    assert [b.line for b in bad] == [4, 5]
    assert bad[1].reason == "missing person"


def test_mailchimp_audience_messy_variant() -> None:
    eve, fin = rows(read("mailchimp-subscribed-messy.csv", "mailchimp-audience"))
    assert (eve.person, eve.name) == (email("eve@example.org"), "Eve Müller")
    assert eve.occurred_at == at("2021-03-04 12:34:00")  # 04.03.2021 12:34
    assert fin.occurred_at == at("2021-07-08 10:11:12")  # only LAST_CHANGED


@pytest.mark.parametrize("name", ["mailchimp-unsubscribed.csv", "mailchimp-cleaned.csv"])
def test_unsubscribed_and_cleaned_files_are_email_opt_outs(name: str) -> None:
    items = read(name, "mailchimp-audience")
    assert len(items) == 1 and isinstance(items[0], OptOutRow)
    assert items[0].channel == "email" and items[0].person.platform == "email"


def test_opt_outs_are_stored_on_both_backends(store: Store) -> None:
    files = [FIXTURES / "mailchimp-subscribed.csv", FIXTURES / "mailchimp-unsubscribed.csv",
             FIXTURES / "mailchimp-cleaned.csv"]  # fmt: skip
    opts = {"preset": "mailchimp-audience"}
    report = import_files(store=store, fmt="csv", paths=files, options=opts, now=NOW)
    again = import_files(store=store, fmt="csv", paths=files, options=opts, now=NOW)
    assert (report.opt_outs, report.quarantined) == (2, 2)
    assert again.opt_outs == 0
    with store.sessions() as s:
        opted = s.execute(
            select(Identity.key, OptOut.channel)
            .join(Identity, Identity.person_id == OptOut.person_id)
            .order_by(Identity.key)
        ).all()
        assert [tuple(r) for r in opted] == [
            ("bo@example.org", "email"), ("gone@example.org", "email"),
        ]  # fmt: skip
        assert len(s.scalars(select(Activity.id)).all()) == 2  # Ada's and Bo's follows


def test_mailchimp_activity_opens_are_weak_reads_and_clicks_clicks() -> None:
    items = read("mailchimp-activity.csv", "mailchimp-activity")
    assert kinds(items) == {
        "read in": 1, "click in": 1, "skipped: an activity that is neither an open nor a click": 1,
    }  # fmt: skip
    opened, clicked = rows(items)
    assert (opened.person, opened.weight, opened.object) == (
        email("ada@example.org"), 0.25, "Winter news",
    )  # fmt: skip
    assert (clicked.verb, clicked.weight, clicked.text) == (
        "click",
        0.5,
        "https://example.org/join",
    )


def test_mailchimp_activity_by_member_id_needs_the_audience() -> None:
    items = read("mailchimp-activity-messy.csv", "mailchimp-activity")
    assert [type(i) for i in items] == [BadRow] * 3
    assert isinstance(items[0], BadRow) and "--audience" in items[0].reason
    audience = f"{FIXTURES / 'mailchimp-subscribed.csv'},{FIXTURES / 'mailchimp-cleaned.csv'}"
    items = read("mailchimp-activity-messy.csv", "mailchimp-activity", audience=audience)
    got = rows(items)
    assert [(r.person.key, r.verb, r.occurred_at) for r in got] == [
        ("ada@example.org", "read", at("2022-01-01 10:05:00")),
        ("bo@example.org", "click", at("2022-01-01 10:08:00")),  # Bo@Example.org in the file
    ]
    bad = [i for i in items if isinstance(i, BadRow)]
    nobody = hashlib.md5(b"nobody@example.org", usedforsecurity=False).hexdigest()
    assert [(b.line, b.reason) for b in bad] == [
        (4, f"the MD5 {nobody!r} is no email of the audience files"),
    ]


def test_eventbrite_checked_in_attend_attending_register_refunded_skipped() -> None:
    items = read("eventbrite.csv", "eventbrite")
    assert kinds(items) == {
        "attend in": 1, "register in": 1, "skipped: a refunded or cancelled ticket": 1,
        "skipped: an attendee status that is neither Checked In nor Attending": 1,
    }  # fmt: skip
    ada, hal = rows(items)
    # the attendee's email, not the buyer's (gus@ bought both tickets)
    assert (ada.person, ada.verb, ada.channel, ada.object) == (
        email("ada@example.org"), "attend", "event", "River cleanup",
    )  # fmt: skip
    assert (hal.person, hal.verb, hal.source_key) == (
        email("hal@example.org"), "register", "eventbrite:1001:hal@example.org",
    )  # fmt: skip
    (kai,) = rows(read("eventbrite-messy.csv", "eventbrite"))
    assert (kai.person.key, kai.verb) == ("kai@example.org", "attend")
    assert kai.occurred_at == at("2021-03-04 14:34:00")  # 3/4/2021 2:34 PM


def test_meetup_attended_attend_rsvp_yes_register_by_profile_url() -> None:
    items = read("meetup.csv", "meetup")
    assert kinds(items) == {"attend in": 1, "register in": 1,
                            "skipped: not an RSVP yes (no, waitlist)": 1}  # fmt: skip
    lea, max_ = rows(items)
    assert (lea.person, lea.verb, lea.name) == (
        IdentityKey("web", "https://www.meetup.com/members/12345"), "attend", "Lea Lind",
    )  # fmt: skip
    assert lea.occurred_at == at("2021-03-04 12:34:00")
    assert max_.verb == "register"
    (ola,) = rows(read("meetup-messy.csv", "meetup"))
    assert ola.person == IdentityKey("web", "https://www.meetup.com/members/45678")
    assert ola.occurred_at == at("2021-03-04 12:34:00")


def test_stripe_paid_payments_donate_with_the_amount() -> None:
    items = read("stripe.csv", "stripe")
    assert kinds(items) == {"donate in": 1,
                            "skipped: not a succeeded payment (failed, refunded, pending)": 2}  # fmt: skip
    (ada,) = rows(items)
    assert (ada.person, ada.text, ada.object, ada.channel, ada.source_key) == (
        email("ada@example.org"), "25.00 usd", "Spring appeal", "donations", "stripe:ch_1AAA",
    )  # fmt: skip
    assert ada.weight is None  # the donate verb's weight, not the amount
    (pia,) = rows(read("stripe-messy.csv", "stripe"))
    assert (pia.text, pia.occurred_at) == ("25,00 eur", at("2021-03-04 12:34:00"))


def test_civicrm_contributions_and_soft_credits() -> None:
    items = read("civicrm-contributions.csv", "civicrm-contributions")
    assert kinds(items) == {"donate in": 3, "introduce peer": 1, "BadRow": 1}
    got = rows(items)
    first, credit = got[0], got[1]
    assert (first.person, first.text, first.object) == (
        IdentityKey("other", "civicrm:C-17"), "100.00", "Donation",
    )  # fmt: skip
    assert (credit.person, credit.target, credit.verb, credit.source_key) == (
        email("rae@example.org"), IdentityKey("other", "civicrm:C-17"), "introduce",
        "civicrm-contributions:TX-1#soft-credit",
    )  # fmt: skip
    bad = next(i for i in items if isinstance(i, BadRow))
    assert bad.line == 4 and bad.reason.startswith("Soft Credit to: cannot tell the platform of")
    assert "Sam Soft" in bad.reason  # the donation of line 4 is kept
    (messy,) = rows(read("civicrm-contributions-messy.csv", "civicrm-contributions"))
    assert (messy.text, messy.occurred_at) == ("15,00", at("2021-03-06 10:00:00"))


def test_discourse_sign_ups_and_last_posts() -> None:
    items = read("discourse.csv", "discourse")
    assert kinds(items) == {"follow in": 2, "comment in": 1}
    tia, tia_post, uma = rows(items)
    assert (tia.person, tia.name, tia.channel, tia.also) == (
        email("tia@example.org"), "Tia Tam", "forum", (IdentityKey("web", "https://tia.example.net"),),
    )  # fmt: skip
    assert tia.occurred_at == at("2021-03-04 12:34:56")
    assert (tia_post.verb, tia_post.occurred_at) == ("comment", at("2021-03-20 18:00:00"))
    assert tia_post.source_key == "discourse:7#last-post"
    assert uma.name == "uma"  # no name: the username
    (vic,) = rows(read("discourse-messy.csv", "discourse"))
    assert vic.person == email("vic@example.org")


def test_every_fixture_into_sqlite_twice_imports_nothing_twice(tmp_path: Path) -> None:
    pairs = [("mailchimp-subscribed", "mailchimp-audience"), ("eventbrite", "eventbrite"),
             ("meetup", "meetup"), ("stripe", "stripe"),
             ("civicrm-contributions", "civicrm-contributions"), ("discourse", "discourse"),
             ("mailchimp-activity", "mailchimp-activity")]  # fmt: skip
    expected = {"mailchimp-audience": 2, "eventbrite": 2, "meetup": 2, "stripe": 1,
                "civicrm-contributions": 4, "discourse": 3, "mailchimp-activity": 2}  # fmt: skip
    with open_store(str(tmp_path / "k.db"), create=True) as store:
        for stem, preset in pairs:
            for messy in ("", "-messy"):
                path = FIXTURES / f"{stem}{messy}.csv"
                if not path.exists() or stem == "mailchimp-activity" and messy:
                    continue
                opts = {"preset": preset}
                first = import_files(store=store, fmt="csv", paths=[path], options=opts, now=NOW)
                again = import_files(store=store, fmt="csv", paths=[path], options=opts, now=NOW)
                if not messy:
                    assert first.imported == expected[preset], preset
                assert again.imported == 0 and again.duplicates == first.imported, path.name


def test_a_copied_preset_file_and_map_on_top(tmp_path: Path) -> None:
    mine = tmp_path / "my-shop.toml"
    shutil.copy(Path(__file__).parents[2] / "src/karmabank/sources/presets/stripe.toml", mine)
    mine.write_text(mine.read_text().replace('channel = "donations"', 'channel = "shop"'))
    data = tmp_path / "payments.csv"
    text = (FIXTURES / "stripe.csv").read_text().replace("Customer Email", "E-Mail")
    data.write_text(text)
    with InputFile(data) as f:
        items = list(CsvSource({"preset": str(mine), "map": "E-Mail=Customer Email"}).read(f))
    (row,) = rows(items)
    assert (row.channel, row.person, row.source_key) == (
        "shop", email("ada@example.org"), "my-shop:ch_1AAA",
    )  # fmt: skip


def test_wrong_files_and_presets_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match=r"needs column\(s\) Order #.*--preset stripe"):
        read("stripe.csv", "eventbrite")
    with pytest.raises(InputFileError, match="use `karmabank import csv --preset stripe`"):
        with InputFile(FIXTURES / "stripe.csv") as f:
            list(CsvSource({}).read(f))
    with pytest.raises(ConfigError, match="no preset 'nope'"):
        CsvSource({"preset": "nope"})
    bad = tmp_path / "bad.toml"
    bad.write_text("[fields]\nwhen = 'x'\n")
    with pytest.raises(ConfigError, match="not a field: when"):
        CsvSource({"preset": str(bad)})
    bad.write_text("fields = [")
    with pytest.raises(ConfigError, match="not TOML"):
        CsvSource({"preset": str(bad)})
    with pytest.raises(ConfigError, match="--audience goes with a --preset"):
        CsvSource({"audience": "x.csv"})


@pytest.mark.parametrize(
    ("preset", "written", "iso"),
    [
        ("eventbrite", "Mar 4, 2021 2:34 PM", "2021-03-04T14:34:00+00:00"),
        ("eventbrite", "2021-03-04 12:34:56-08:00", "2021-03-04T12:34:56-08:00"),
        ("stripe", "2021-03-04 12:34", "2021-03-04T12:34:00+00:00"),
        ("meetup", "3/4/2021 12:34 PM", "2021-03-04T12:34:00+00:00"),
        ("civicrm-contributions", "March 4, 2021", "2021-03-04T00:00:00+00:00"),
        ("discourse", "2021-03-04 12:34:56 UTC", "2021-03-04T12:34:56+00:00"),
        ("mailchimp-audience", "2021-03-04T12:34:56Z", "2021-03-04T12:34:56Z"),  # ISO as given
    ],
)
def test_dates_as_each_platform_writes_them(preset: str, written: str, iso: str) -> None:
    assert Preset.load(preset).when(written) == iso


def test_a_date_in_no_known_format_quarantines_the_row(tmp_path: Path) -> None:
    path = tmp_path / "payments.csv"
    text = (FIXTURES / "stripe.csv").read_text().replace("2021-03-04 12:34:56", "last tuesday")
    path.write_text(text)
    with InputFile(path) as f:
        items = list(CsvSource({"preset": "stripe"}).read(f))
    bad = [i for i in items if isinstance(i, BadRow)]
    assert [(b.line, b.reason) for b in bad] == [
        (
            2,
            "unparseable time 'last tuesday' (the stripe preset reads %Y-%m-%d %H:%M:%S, "
            "%Y-%m-%d %H:%M, %m/%d/%Y %H:%M, %d.%m.%Y %H:%M, ... or ISO-8601; add the format to a "
            "copy of the preset)",
        ),
    ]


@pytest.mark.parametrize("content", [b"", b"\xef\xbb\xbf"])
def test_an_empty_export_is_one_clear_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "members.csv"
    path.write_bytes(content)
    with pytest.raises(InputFileError, match="empty file, expected a header row"):
        with InputFile(path) as f:
            list(CsvSource({"preset": "mailchimp-audience"}).read(f))
