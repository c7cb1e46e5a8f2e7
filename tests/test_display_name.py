"""A person without a name is shown by their best identity, the same way in the CLI and the
web (`identities.display_name`, the one function both use)."""

from __future__ import annotations

import pytest

from karmabank.identities import display_name, shown_identity


@pytest.mark.parametrize(
    ("identity", "shown"),
    [
        ("mastodon:@ada@host.social", "@ada@host.social"),
        ("email:ada@example.org", "ada@example.org"),
        ("other:1054", "node 1054"),
        ("bluesky:ada.bsky.social", "@ada.bsky.social"),
        ("bluesky:did:plc:abc", "did:plc:abc"),
        ("github:ada", "@ada (github)"),
        ("x:3998", "node 3998 (x)"),  # an edge list imported with --platform x
        ("web:https://ada.example", "https://ada.example"),
        ("event:meetup-7", "event:meetup-7"),
    ],
)
def test_each_platform_reads_as_a_name(identity: str, shown: str) -> None:
    assert shown_identity(identity) == shown


def test_the_name_first_then_the_best_identity_then_the_id() -> None:
    assert display_name("Ada", ["email:ada@example.org"], 7) == "Ada"
    ids = ["other:1054", "email:ada@example.org", "mastodon:@ada@host.social"]
    assert display_name(None, ids, 7) == "@ada@host.social"
    assert display_name("  ", ids[:2], 7) == "ada@example.org"  # blank is no name
    assert display_name(None, ["other:1054"], 7) == "node 1054"
    assert display_name(None, [], 7) == "person 7"
