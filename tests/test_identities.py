from __future__ import annotations

import pytest

from karmabank.errors import IdentityError
from karmabank.identities import normalize_url, parse_identity
from karmabank.model import IdentityKey


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("email:Ada@Example.org", ("email", "ada@example.org")),
        ("  Ada.Lovelace@Example.ORG ", ("email", "ada.lovelace@example.org")),
        ("mastodon:@Ada@Example.Social", ("mastodon", "@ada@example.social")),
        ("mastodon:ada@example.social", ("mastodon", "@ada@example.social")),
        ("@ada@Mastodon.Social", ("mastodon", "@ada@mastodon.social")),
        ("https://Mastodon.social/@ada", ("mastodon", "@ada@mastodon.social")),
        ("bluesky:did:plc:abc123XYZ", ("bluesky", "did:plc:abc123XYZ")),
        ("bluesky:@Ada.bsky.social", ("bluesky", "ada.bsky.social")),
        (
            "web:HTTP://Example.org:80/blog/?utm_source=x&b=2&a=1#top",
            ("web", "https://example.org/blog?a=1&b=2"),
        ),
        ("https://example.org/", ("web", "https://example.org")),
        ("github:@AdaL", ("github", "adal")),
        ("x:https://x.com/AdaL", ("x", "adal")),
        ("phone:+33 6 12-34-56-78", ("phone", "+33612345678")),
        ("other:88", ("other", "88")),
        ("event:Spring Cleanup 2026", ("event", "Spring Cleanup 2026")),
    ],
)
def test_parse_and_normalize(text: str, expected: tuple[str, str]) -> None:
    assert parse_identity(text) == IdentityKey(*expected)


@pytest.mark.parametrize(
    "text", ["", "ada", "email:not-an-email", "mastodon:ada", "fax:123", "phone:12"]
)
def test_bad_identities_say_why(text: str) -> None:
    with pytest.raises(IdentityError) as e:
        parse_identity(text)
    assert str(e.value)


def test_two_spellings_of_one_page_are_one_key() -> None:
    assert normalize_url("example.org/a/") == normalize_url("https://EXAMPLE.org/a?utm_medium=m")


def test_identity_key_prints_as_platform_key() -> None:
    assert str(IdentityKey("email", "a@b.org")) == "email:a@b.org"
