"""The `feed` importer (RSS/Atom with feedparser) through the real command line into a real
SQLite file: a supporter's blog (posts that mention the organization are inbound, the others
their own content), a comment feed (inbound comments), the organization's own feed, exact
counts, re-runs importing nothing twice, wrong formats and bad files refused clearly."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from karmabank.errors import ConfigError, InputFileError
from karmabank.model import IdentityKey
from karmabank.sources.base import BadRow, InputFile, OrgContentRow, ParsedRow, SourceItem
from karmabank.sources.feed import FeedSource
from karmabank.store.open import open_store
from karmabank.store.tables import Activity, Identity
from tests.cli_helpers import run

FIXTURES = Path(__file__).parent / "fixtures" / "feed"
BLOG, COMMENTS = FIXTURES / "ada-blog.xml", FIXTURES / "comments.xml"
WXR = Path(__file__).parent / "fixtures" / "wxr" / "threaded.xml"
ORG = ("web:https://riverside.example.org", "@riverside@social.example")


def read(path: Path, org: tuple[str, ...] = ORG, **options: str) -> list[SourceItem]:
    from karmabank.identities import parse_identity

    source = FeedSource(options)
    source.use_organization(frozenset(parse_identity(o) for o in org))
    with InputFile(path) as f:
        return list(source.read(f))


def imported(capsys: pytest.CaptureFixture[str], db: Path, *args: str) -> dict[str, object]:
    r = run(capsys, "import", "feed", *args, "--db", str(db), "--json")
    assert r.code == 0, r.err
    result: dict[str, object] = json.loads(r.out)
    return result


def stored(db: Path) -> dict[str, tuple[str, str, str, str | None]]:
    """source_key -> (person's identities, verb, direction, object)."""
    with open_store(str(db)) as store, store.sessions() as s:
        idents: dict[int, list[str]] = {}
        for pid, p, k in s.execute(select(Identity.person_id, Identity.platform, Identity.key)):
            idents.setdefault(pid, []).append(f"{p}:{k}")
        rows = s.execute(select(Activity.source_key, Activity.person_id, Activity.verb,
                                Activity.direction, Activity.object, Activity.target_id))  # fmt: skip
        out = {}
        for key, pid, verb, direction, obj, target in rows:
            assert target is None
            out[key] = (",".join(sorted(idents[pid])), verb, direction, obj)
        return out


def test_a_supporters_blog_inbound_only_when_it_mentions_the_organization(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    db = tmp_path / "k.db"
    assert run(capsys, "org", "identity", "add", *ORG, "--db", str(db)).code == 0
    report = imported(capsys, db, str(BLOG), "--person", "Ada@Example.net")
    assert (report["imported"], report["duplicates"], report["skipped"]) == (3, 0, 0)
    assert report["quarantined"] == 1
    assert report["errors"] == [{"file": str(BLOG), "line": 35,
                                 "reason": "an entry without a date (published or updated) to read"}]  # fmt: skip
    acts = stored(db)
    ada = "email:ada@example.net,web:https://ada.example.net"  # the blog is her website
    assert acts == {
        # links to the organization's site (http, utm_ and case folded away): inbound
        "feed:https://ada.example.net/?p=41": (ada, "comment", "in",
                                               "https://ada.example.net/2024/03/why/"),
        # her own content, toward no one: a peer activity without a target
        "feed:https://ada.example.net/?p=42": (ada, "comment", "peer",
                                               "https://ada.example.net/2024/03/sourdough/"),
        # names its Mastodon account: inbound
        "feed:https://ada.example.net/?p=43": (ada, "comment", "in",
                                               "https://ada.example.net/2024/03/thanks/"),
    }  # fmt: skip
    again = imported(capsys, db, str(BLOG), "--person", "ada@example.net")
    assert (again["imported"], again["duplicates"], again["quarantined"]) == (0, 3, 1)


def test_without_person_the_feed_link_is_whose_blog_it_is() -> None:
    rows = [i for i in read(BLOG) if isinstance(i, ParsedRow)]
    assert {r.person for r in rows} == {IdentityKey("web", "https://ada.example.net")}
    assert [r.also for r in rows] == [(), (), ()]
    assert [r.name for r in rows] == ["Ada Okafor", "Ada Okafor", None]
    assert [r.line for r in rows] == [10, 20, 28]
    assert rows[1].text == (
        "Sourdough, week 3 — The starter is finally alive. Water quality matters for bread too."
    )
    # 2024-03-05 18:30 +01:00 is 17:30 UTC
    assert rows[1].occurred_at == 1709659800_000000


def test_with_no_organization_identity_known_every_post_is_their_own_content() -> None:
    rows = [i for i in read(BLOG, org=()) if isinstance(i, ParsedRow)]
    assert [r.direction for r in rows] == ["peer", "peer", "peer"]
    assert all(r.target is None for r in rows)


def test_a_comment_feed_is_inbound_comments(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    db = tmp_path / "k.db"
    report = imported(capsys, db, str(COMMENTS))
    assert (report["imported"], report["skipped"], report["quarantined"]) == (3, 0, 0)
    post = "https://riverside.example.org/2024/03/clean-up/"
    site = "wxr:https://riverside.example.org"  # the keys the site's WordPress export gives
    assert stored(db) == {
        f"{site}:101": ("email:ada@example.net", "comment", "in", post),
        f"{site}:103": ("web:https://ben.example.com", "comment", "in", post),
        # only a name: the name on that site
        f"{site}:111": ("other:riverside.example.org/Chidi", "comment", "in", post),
    }
    # the site's WordPress export holds 101 and 103 too: imported once
    wxr = run(capsys, "import", "wxr", str(WXR), "--db", str(db), "--json")
    assert json.loads(wxr.out)["duplicates"] == 2
    texts = [i.text for i in read(COMMENTS) if isinstance(i, ParsedRow)]
    assert texts[0] == "What a morning! Count me in for April."


def test_comments_option_and_comment_links_make_a_comment_feed(tmp_path: Path) -> None:
    plain = tmp_path / "c.xml"
    plain.write_text(
        COMMENTS.read_text(encoding="utf-8").replace("Comments on: ", ""), encoding="utf-8"
    )
    assert all(i.verb == "comment" for i in read(plain) if isinstance(i, ParsedRow))
    items = read(BLOG, comments="yes")
    posts = [i for i in items if isinstance(i, ParsedRow)]
    assert [(p.verb, p.direction, p.person.key) for p in posts] == [
        ("comment", "in", "ada.example.net/Ada Okafor")
    ] * 2
    assert [i.reason for i in items if isinstance(i, BadRow)] == [
        "a comment without its author",
        "an entry without a date (published or updated) to read",
    ]
    with pytest.raises(ConfigError, match="--comments: expected yes or no"):
        FeedSource({"comments": "maybe"})


def test_the_organizations_own_feed_is_its_content() -> None:
    items = read(BLOG, org=("web:https://ada.example.net",))
    content = [i for i in items if isinstance(i, OrgContentRow)]
    assert [c.object for c in content] == [
        "https://ada.example.net/2024/03/why/", "https://ada.example.net/2024/03/sourdough/",
        "https://ada.example.net/2024/03/thanks/",
    ]  # fmt: skip
    assert content[0].title == "Why I clean rivers"
    assert [type(i) for i in items].count(BadRow) == 1


def test_gzip_feed_reads_the_same(tmp_path: Path) -> None:
    packed = tmp_path / "feed.xml.gz"
    packed.write_bytes(gzip.compress(BLOG.read_bytes()))
    assert read(packed) == read(BLOG)


@pytest.mark.parametrize(
    ("path", "hint"),
    [
        (WXR, "this looks like a WordPress export (WXR): use `karmabank import wxr`"),
        (Path(__file__).parents[2] / "docs" / "examples" / "supporters.csv",
         "this looks like a karmabank CSV: use `karmabank import csv`"),
    ],
)  # fmt: skip
def test_a_file_of_another_format_names_it(path: Path, hint: str) -> None:
    with pytest.raises(InputFileError) as e:
        read(path)
    assert str(e.value) == f"{path}: not an RSS or Atom feed; {hint}"


def test_not_a_feed_and_undecodable_bytes_are_refused(tmp_path: Path) -> None:
    junk = tmp_path / "junk.xml"
    junk.write_text("just some words\n", encoding="utf-8")
    with pytest.raises(InputFileError, match=r"junk\.xml: not an RSS or Atom feed \("):
        read(junk)
    latin = tmp_path / "latin.xml"
    latin.write_bytes(BLOG.read_bytes().replace(b"Sourdough", b"Sourd\xe9ugh"))
    with pytest.raises(InputFileError) as e:
        read(latin)
    assert str(e.value).startswith(f"{latin}:21: holds the byte 0xE9, which is not valid utf-8")
    with InputFile(latin, "cp1252") as f:
        titles = [i.text for i in FeedSource({}).read(f) if isinstance(i, ParsedRow)]
    assert titles[1] is not None and titles[1].startswith("Sourdéugh")


def test_options_are_checked() -> None:
    with pytest.raises(ConfigError, match="--person: cannot tell the platform of 'ada'"):
        FeedSource({"person": "ada"})
    with pytest.raises(ConfigError, match="the feed format does not take --org"):
        FeedSource({"org": "1"})


def test_a_feed_over_the_size_limit_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("karmabank.sources.feed.MAX_FEED_CHARS", 100)
    with pytest.raises(InputFileError, match="more than 100 characters: feedparser reads a feed"):
        read(BLOG)


def test_an_entry_dated_out_of_range_is_quarantined_with_the_range(tmp_path: Path) -> None:
    old = tmp_path / "old.xml"
    old.write_text(
        BLOG.read_text(encoding="utf-8").replace("Sun, 03 Mar 2024", "Sun, 03 Mar 1850"),
        encoding="utf-8",
    )
    bad = [i for i in read(old) if isinstance(i, BadRow)]
    assert [(b.line, b.reason) for b in bad] == [
        (10, "time out of range: 'Sun, 03 Mar 1850 08:00:00 +0000' (supported: 1900-01-01 to "
             "2200-01-01 UTC)"),
        (35, "an entry without a date (published or updated) to read"),
    ]  # fmt: skip


def test_a_posts_scripts_and_styles_are_not_its_text(tmp_path: Path) -> None:
    """feedparser's sanitizer is off (its slowest part); the text is made plain here, without
    what a page runs or styles itself with, and a `javascript:` link is no one's identity."""
    feed = tmp_path / "f.xml"
    feed.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel><title>Ada</title>'
        "<link>https://ada.example.net/</link><item><title>Clean-up</title>"
        "<link>https://ada.example.net/1/</link><pubDate>Sun, 03 Mar 2024 08:00:00 +0000"
        "</pubDate><description><![CDATA[<style>p {color: red}</style><p>Thanks to "
        '<a href="javascript:alert(1)">all</a> at <a href="https://riverside.example.org/">'
        "Riverside</a></p><SCRIPT type='text/javascript'>alert('x')</SCRIPT>]]></description>"
        "</item></channel></rss>\n",
        encoding="utf-8",
    )
    [post] = [i for i in read(feed) if isinstance(i, ParsedRow)]
    assert post.text == "Clean-up — Thanks to all at Riverside"  # its title, then its text
    assert post.direction == "in"  # it links to the organization's site


def test_plain_text_drops_scripts_and_styles_closed_or_not() -> None:
    from karmabank.sources.blog_fields import plain_text

    assert plain_text("<p>a<script>x</script>b<STYLE media=x>c</style >d<script>e") == "a b d"
    assert plain_text("<scripts>kept</scripts> <script src=a></script>ok") == "kept ok"
    assert plain_text("text<script>" + "<script>a" * 50_000) == "text"  # one pass, not one per tag
