"""The forms identity resolution compares: folded names, nicknames, initials, handles, domains."""

from __future__ import annotations

import pytest

from karmabank.measures.identity.names import (
    NameParts,
    fold,
    handle_root,
    identity_domains,
    identity_handles,
    name_forms,
)


@pytest.mark.parametrize(
    ("name", "first", "last", "full"),
    [
        ("Robert Smith", "robert", "smith", "robert smith"),
        ("Bob Smith", "robert", "smith", "robert smith"),
        ("BOBBY  SMITH", "robert", "smith", "robert smith"),
        ("Liz Bianchi", "elizabeth", "bianchi", "elizabeth bianchi"),
        ("Pepe Fernández", "jose", "fernandez", "jose fernandez"),
        ("José Fernandez", "jose", "fernandez", "jose fernandez"),
        ("Zoë Þórsdóttir", "zoe", "thorsdottir", "zoe thorsdottir"),
        ("Łukasz Wójcik", "lukasz", "wojcik", "lukasz wojcik"),
        ("Søren O'Brien", "soren", "obrien", "soren obrien"),
        ("Anna van der Berg", "anna", "vanderberg", "anna vanderberg"),
        ("R. Smith", "r", "smith", None),  # an initial is not a full name
        ("Robert", "robert", None, None),  # nor a first name alone
        ("ｊｏｓé ｋｉｍ", "jose", "kim", "jose kim"),  # compatibility forms (NFKD)
        (None, None, None, None),
        ("  ", None, None, None),
    ],
)
def test_name_parts(
    name: str | None, first: str | None, last: str | None, full: str | None
) -> None:
    parts = NameParts(name)
    assert (parts.first, parts.last, parts.full) == (first, last, full)


def test_fold_drops_case_and_diacritics() -> None:
    assert fold("ZOË Çelik Straße") == "zoe celik strasse"
    assert fold("Kovačević") == "kovacevic"


def test_name_forms_cover_common_handles() -> None:
    forms = name_forms("Bob Smith")
    assert {"bobsmith", "robertsmith", "smithbob", "smithrobert", "bsmith", "rsmith",
            "smithb", "bobs", "roberts"} <= forms  # fmt: skip
    assert name_forms("R. Smith") == {"rsmith", "smithr"}
    assert name_forms("Bob") == {"robert"}  # a first name alone, when long enough
    assert name_forms("Anna") == set()
    assert name_forms(None) == set()


@pytest.mark.parametrize(
    ("platform", "key", "handles"),
    [
        ("email", "rob.smith+news@gmail.com", ["robsmith"]),
        ("email", "info@riverside.org", []),  # a role, not a person
        ("mastodon", "@Rob_Smith@hachyderm.io", ["robsmith"]),
        ("bluesky", "robsmith.bsky.social", ["robsmith"]),
        ("bluesky", "robsmith.net", []),  # a domain: compared as one
        ("bluesky", "did:plc:abc", []),
        ("github", "rob-smith", ["robsmith"]),
        ("x", "bob", []),  # too short
        ("web", "https://robsmith.net", []),
    ],
)
def test_identity_handles(platform: str, key: str, handles: list[str]) -> None:
    assert identity_handles(platform, key) == handles


def test_identity_domains() -> None:
    assert identity_domains("web", "https://www.robsmith.net/blog") == ["robsmith.net"]
    assert identity_domains("bluesky", "robsmith.net") == ["robsmith.net"]
    assert identity_domains("bluesky", "rob.bsky.social") == []
    assert identity_domains("email", "rob@robsmith.net") == ["robsmith.net"]
    assert identity_domains("email", "rob@gmail.com") == []  # free mail proves nothing
    assert identity_domains("github", "robsmith") == []


def test_handle_root() -> None:
    assert handle_root("fcastellanos2") == "fcastellanos"
    assert handle_root("robert48") is None  # a given name and digits: many people's
    assert handle_root("bob42") is None
