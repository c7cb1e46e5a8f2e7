"""What a file looks like (`sources/sniff.py`): the real files of ../shared/data/formats/,
small heads written here for the CSV exports and edge lists, gzip, zip archives and folders;
the error that names the format; no crash on any bytes."""

from __future__ import annotations

import gzip
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from karmabank.errors import InputFileError
from karmabank.sources.sniff import Sniffed, sniff_bytes, sniff_path, wrong_format
from tests.conftest import DATA

FORMATS = DATA / "formats"


def _real(*parts: str) -> Path:
    path = FORMATS.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent (../shared/data/formats/ holds the real platform files)")
    return path


@pytest.mark.parametrize(
    ("parts", "fmt", "what"),
    [
        (("wxr", "valid-wxr-1.1.xml"), "wxr", "a WordPress export (WXR)"),
        (("wxr", "valid-wxr-1.0.xml"), "wxr", "a WordPress export (WXR)"),
        (("wxr", "a11y-unit-test-data.xml"), "wxr", "a WordPress export (WXR)"),
        (("mastodon-archive", "outbox.json"), "mastodon-archive", "a Mastodon archive outbox"),
        (("mastodon-archive", "actor.json"), "mastodon-archive", "a file of a Mastodon archive"),
        (("mastodon-archive",), "mastodon-archive", "a Mastodon archive folder"),
        (("bluesky-repo", "snarfed2.car"), "bluesky-repo", "an AT Protocol repository (CAR)"),
    ],
)
def test_real_files(parts: tuple[str, ...], fmt: str, what: str) -> None:
    assert sniff_path(_real(*parts)) == Sniffed(fmt, what)


def test_files_of_no_known_format_are_none() -> None:
    assert sniff_path(_real("bluesky-repo", "snarfed2.json")) is None
    assert sniff_path(_real("mastodon-api", "Account.md")) is None


@pytest.mark.parametrize(
    ("head", "fmt", "preset"),
    [
        (b"Email Address,First Name,Last Name,MEMBER_RATING,OPTIN_TIME,LEID,EUID\r\n", "csv",
         "mailchimp-audience"),
        (b'\xef\xbb\xbf"Email Address";"First Name";"MEMBER_RATING"\n', "csv",
         "mailchimp-audience"),
        (b"email,member_id,action,timestamp\n", "csv", "mailchimp-activity"),
        (b"Order #,Order Date,First Name,Last Name,Email,Quantity,Ticket Type,Attendee Status\n",
         "csv", "eventbrite"),
        (b"Name,User ID,Title,RSVP,Guests,RSVPed on\n", "csv", "meetup"),
        (b"id,Description,Created (UTC),Amount,Currency,Status,Customer Email\n", "csv",
         "stripe"),
        (b"External Identifier,Total Amount,Receive Date,Financial Type,Soft Credit to\n",
         "csv", "civicrm-contributions"),
        (b"id,name,username,email,title,created_at,trust_level\n", "csv", "discourse"),
        (b"occurred_at,person,verb,direction\n", "csv", None),
        (b"% sym unweighted\n1 2 1082040961\n2 3 1082155839\n", "edgelist", None),
        (b'{"version": "https://jsonfeed.org/version/1.1", "items": []}', "feed", None),
        (b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>', "feed",
         None),
        (b"<rss version='2.0'><channel><title>A blog</title>", "feed", None),
        (b'{"@context": "https://www.w3.org/ns/activitystreams", "type": "Collection"}',
         "activitystreams", None),
    ],
)  # fmt: skip
def test_heads(head: bytes, fmt: str, preset: str | None) -> None:
    found = sniff_bytes(head)
    assert found is not None
    assert (found.format, found.preset) == (fmt, preset)


def test_gzip_zip_and_wrong_format_messages(tmp_path: Path) -> None:
    outbox = b'{"@context": "https://www.w3.org/ns/activitystreams", "id": "outbox.json", '
    gz = tmp_path / "outbox.json.gz"
    gz.write_bytes(gzip.compress(outbox + b'"orderedItems": []}'))
    assert sniff_path(gz) == Sniffed("mastodon-archive", "a Mastodon archive outbox")
    archive = tmp_path / "archive-2024.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("outbox.json", outbox)
    assert sniff_path(archive) == Sniffed("mastodon-archive", "a Mastodon archive")
    error = wrong_format(gz, "wxr", "not a WordPress export (no <rss> element)")
    assert isinstance(error, InputFileError)
    assert str(error) == (
        f"{gz}: not a WordPress export (no <rss> element); this looks like a Mastodon archive "
        "outbox: use `karmabank import mastodon-archive`"
    )
    # the file looks like the format asked for: only the problem is said
    assert str(wrong_format(gz, "mastodon-archive", "no orderedItems")) == f"{gz}: no orderedItems"
    mailchimp = tmp_path / "members.csv"
    mailchimp.write_text("Email Address,First Name,MEMBER_RATING\na@example.org,A,2\n")
    assert str(wrong_format(mailchimp, "csv", "missing required column(s) occurred_at")) == (
        f"{mailchimp}: missing required column(s) occurred_at; this looks like a Mailchimp "
        "audience export: use `karmabank import csv --preset mailchimp-audience`"
    )
    assert "this looks like" not in str(
        wrong_format(mailchimp, "csv", "bad", preset="mailchimp-audience")
    )
    assert str(wrong_format(tmp_path / "absent.xml", "wxr", "missing")).endswith(": missing")


@settings(max_examples=3_000, derandomize=True, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=300),
        st.sampled_from([b"<", b"{", b"\x1f\x8b", b"PK\x03\x04", b":\xa2eroots", b"\xef\xbb\xbf",
                         b"\xff\xfe"]).flatmap(lambda p: st.binary(max_size=200).map(p.__add__)),
    )
)  # fmt: skip
def test_no_bytes_crash_the_sniffer(head: bytes) -> None:
    found = sniff_bytes(head)
    assert found is None or isinstance(found, Sniffed)
