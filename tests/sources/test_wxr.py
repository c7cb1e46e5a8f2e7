"""The `wxr` importer (WordPress exports) on the real files of ../shared/data/formats/wxr/ and
on a threaded fixture of our own, through `import_files` into a real SQLite file: exact counts,
attribution row by row, re-runs importing nothing twice, malformed XML refused whole."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from karmabank.actions.importing import ImportReport, import_files
from karmabank.errors import InputFileError
from karmabank.model import IdentityKey
from karmabank.sources.base import InputFile, OrgContentRow, ParsedRow, SkippedRow, SourceItem
from karmabank.sources.blog_fields import plain_text, wp_time
from karmabank.sources.wxr import WxrSource
from karmabank.store.open import Store, open_store
from karmabank.store.tables import Activity, Identity, ImportRun, OrgIdentity, Person
from tests.conftest import DATA, NOW

WXR = DATA / "formats" / "wxr"
FIXTURE = Path(__file__).parent / "fixtures" / "wxr" / "threaded.xml"
SITE = "wxr:https://riverside.example.org"

needs_data = pytest.mark.skipif(
    not WXR.is_dir(), reason=f"the real WordPress exports are not here ({WXR})"
)


def load(store: Store, path: Path, **options: str) -> ImportReport:
    return import_files(store=store, fmt="wxr", paths=[path], options=options, now=NOW)


def read(path: Path, org: frozenset[IdentityKey] = frozenset()) -> list[SourceItem]:
    source = WxrSource({})
    source.use_organization(org)
    with InputFile(path) as f:
        return list(source.read(f))


@pytest.fixture
def sqlite(tmp_path: Path) -> Iterator[Store]:
    with open_store(str(tmp_path / "k.db"), create=True) as store:
        yield store


def counts(report: ImportReport) -> tuple[int, int, int, int]:
    return report.imported, report.duplicates, report.skipped, report.quarantined


def activities(store: Store) -> dict[str, tuple[str, str, str, str, str | None]]:
    """source_key -> (person's first identity, verb, direction, channel, target's identity)."""
    with store.sessions() as s:
        ident = {pid: f"{p}:{k}" for pid, p, k in
                 s.execute(select(Identity.person_id, Identity.platform, Identity.key)
                           .order_by(Identity.id.desc()))}  # fmt: skip
        rows = s.execute(select(Activity.source_key, Activity.person_id, Activity.verb,
                                Activity.direction, Activity.channel, Activity.target_id))  # fmt: skip
        return {
            key: (ident[pid], verb, d, ch, ident[t] if t is not None else None)
            for key, pid, verb, d, ch, t in rows
        }


# (file, imported, skipped by reason, quarantined): comments + published posts (org content)
REAL = [
    ("a11y-unit-test-data.xml", 28 + 62, {"reply to their own comment": 9}, 1),
    ("slashes.xml", 1 + 1, {}, 0),
    ("small-export.xml", 1 + 9, {}, 0),
    ("test-serialized-comment-meta.xml", 1, {}, 0),
    ("valid-wxr-1.0.xml", 1 + 6, {}, 0),
    ("valid-wxr-1.1.xml", 1 + 2, {}, 0),
]


@needs_data
@pytest.mark.parametrize(("name", "imported", "skipped", "quarantined"), REAL)
def test_real_exports_import_with_exact_counts_and_rerun_imports_nothing_twice(
    sqlite: Store, name: str, imported: int, skipped: dict[str, int], quarantined: int
) -> None:
    first = load(sqlite, WXR / name)
    assert counts(first) == (imported, 0, sum(skipped.values()), quarantined)
    assert first.skip_reasons == skipped
    again = load(sqlite, WXR / name)
    assert counts(again) == (0, imported, sum(skipped.values()), quarantined)


@needs_data
def test_a11y_export_attribution(sqlite: Store) -> None:
    report = load(sqlite, WXR / "a11y-unit-test-data.xml")
    assert [(e.line, e.reason) for e in report.errors] == [
        (687, "comment 167: approval status '' is not 1, 0, spam or trash")
    ]
    acts = activities(sqlite)
    site = "wxr:https://wpthemetestdata.wordpress.com"
    assert acts[f"{site}:899"][:4] == ("email:fake@email.com", "comment", "in", "blog")
    # pingbacks: mentions from the linking site, its root URL
    assert acts[f"{site}:921"][:3] == ("web:https://tellyworth.wordpress.com", "mention", "in")
    with sqlite.sessions() as s:
        org = {tuple(r) for r in s.execute(select(OrgIdentity.platform, OrgIdentity.key))}
        # the many commenters sharing example@example.org are one person, with the website too
        keys = {tuple(r) for r in s.execute(select(Identity.platform, Identity.key))}
        at = s.scalar(select(Activity.occurred_at).where(Activity.source_key == f"{site}:168"))
    assert ("email", "a11yteam@wordpress.org") in org  # the site's author (wp:wp_author)
    assert {("email", "example@example.org"), ("web", "https://example.org")} <= keys
    # comment 168: local 2007-09-04 10:49:03, GMT 00:49:03: the GMT time is the one kept
    assert at is not None and at.isoformat().startswith("2007-09-04T00:49:03")


@needs_data
def test_malformed_export_is_refused_whole_naming_file_and_line(sqlite: Store) -> None:
    with pytest.raises(InputFileError) as e:
        load(sqlite, WXR / "malformed.xml")
    assert str(e.value) == (
        f"{WXR / 'malformed.xml'}:90: not well-formed XML (mismatched tag, column 3): "
        "nothing was imported"
    )
    with sqlite.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Activity)) == 0
        assert s.scalar(select(func.count()).select_from(OrgIdentity)) == 0


def test_threaded_fixture_counts_and_reasons(store: Store) -> None:  # SQLite and PostgreSQL
    report = load(store, FIXTURE)
    assert counts(report) == (9 + 3, 0, 5, 1)
    assert report.skip_reasons == {
        "reply to their own comment": 1, "spam comment": 1, "pending comment": 1,
        "anonymous comment (no email or website)": 1,
        "comment type 'order_note' (not a visitor's comment)": 1,
    }  # fmt: skip
    assert [(e.line, e.reason) for e in report.errors] == [
        (146, "comment 110: unparseable time 'yesterday' (use ISO-8601 or unix seconds)")
    ]
    assert counts(load(store, FIXTURE)) == (0, 12, 5, 1)


def test_threaded_fixture_attribution_row_by_row(store: Store) -> None:
    load(store, FIXTURE)
    acts = activities(store)
    ada, ben = "email:ada@example.net", "email:ben@example.com"
    assert acts[f"{SITE}:101"] == (ada, "comment", "in", "blog", None)
    # the author Mara answering Ada is the organization's reply, a give to Ada
    assert acts[f"{SITE}:102"] == (ada, "reply", "give", "blog", None)
    # Ben answering Ada: inbound, and a peer edge Ben -> Ada
    assert acts[f"{SITE}:103"] == (ben, "comment", "in", "blog", None)
    assert acts[f"{SITE}:103:reply-to:101"] == (ben, "reply", "peer", "blog", ada)
    assert acts[f"{SITE}:104:reply-to:103"] == (ada, "reply", "peer", "blog", ben)
    assert f"{SITE}:105:reply-to:104" not in acts  # Ada answering herself
    assert f"{SITE}:106" not in acts  # Theo's top-level comment is the organization's content
    pings = [acts[f"{SITE}:201"], acts[f"{SITE}:202"]]
    assert pings == [("web:https://citynotes.example.com", "mention", "in", "blog", None)] * 2
    with store.sessions() as s:
        org = {tuple(r) for r in s.execute(select(OrgIdentity.platform, OrgIdentity.key))}
        ada_id = s.scalar(select(Identity.person_id).where(Identity.key == "ada@example.net"))
        person = s.get(Person, ada_id)
        ada_keys = set(s.scalars(select(Identity.key).where(Identity.person_id == ada_id)))
        ben_at = s.scalar(select(Activity.occurred_at).where(Activity.source_key == f"{SITE}:103"))
        text = s.scalar(select(Activity.text).where(Activity.source_key == f"{SITE}:101"))
        obj = s.scalar(select(Activity.object).where(Activity.source_key == f"{SITE}:101"))
        run = s.scalar(select(ImportRun.status))
    assert org == {("email", "mara@riverside.example.org"), ("email", "theo@riverside.example.org")}
    assert person is not None and person.name == "Ada Okafor"
    assert ada_keys == {"ada@example.net", "https://ada.example.net"}
    # no GMT time: the local 09:30 moved by the offset the comment before showed (+1 h)
    assert ben_at is not None and ben_at.isoformat().startswith("2024-03-03T08:30:00")
    assert text == "What a morning! Count me in for April."
    assert obj == "Saturday’s river clean-up (https://riverside.example.org/2024/03/clean-up/)"
    assert run == "done"


def test_the_organizations_own_content_is_yielded_for_posts_and_top_level_author_comments() -> None:
    content = [i for i in read(FIXTURE) if isinstance(i, OrgContentRow)]
    assert [(c.source_key, c.object, c.title) for c in content] == [
        (f"{SITE}:post:10", "https://riverside.example.org/2024/03/clean-up/",
         "Saturday’s river clean-up"),
        (f"{SITE}:106", "https://riverside.example.org/2024/03/clean-up/#comment-106",
         "Saturday’s river clean-up"),
        (f"{SITE}:post:11", "https://riverside.example.org/about/", "About us"),
    ]  # fmt: skip
    assert content[0].text == "Thirty of us cleared the east bank."


def test_a_known_organization_identity_makes_its_comments_the_organizations() -> None:
    items = read(FIXTURE, frozenset({IdentityKey("email", "ben@example.com")}))
    rows = {i.source_key: i for i in items if isinstance(i, ParsedRow)}
    # Ben is the organization now: his answer to Ada is its reply, a give to Ada; Ada's answer
    # to him is inbound only (no peer edge toward the organization)
    ben = rows[f"{SITE}:103"]
    assert (ben.person, ben.verb, ben.direction) == (IdentityKey("email", "ada@example.net"),
                                                     "reply", "give")  # fmt: skip
    assert f"{SITE}:104" in rows and f"{SITE}:104:reply-to:103" not in rows


def test_gzip_export_reads_the_same(tmp_path: Path) -> None:
    packed = tmp_path / "export.xml.gz"
    packed.write_bytes(gzip.compress(FIXTURE.read_bytes()))
    assert read(packed) == read(FIXTURE)


def test_truncated_export_stores_nothing_even_in_small_batches(tmp_path: Path) -> None:
    cut = tmp_path / "cut.xml"
    text = FIXTURE.read_text(encoding="utf-8")
    cut.write_text(text[: text.index("<wp:comment_id>201")], encoding="utf-8")
    with open_store(str(tmp_path / "k.db"), create=True) as store:
        with pytest.raises(
            InputFileError,
            match=r"cut\.xml:171: not well-formed XML \(Premature end of data in tag comment",
        ):
            import_files(store=store, fmt="wxr", paths=[cut], options={}, now=NOW, batch_size=1)
        with store.sessions() as s:
            assert s.scalar(select(func.count()).select_from(Activity)) == 0
            assert s.scalar(select(ImportRun.status)) == "failed"


def test_truncated_gzip_is_refused_whole(tmp_path: Path) -> None:
    cut = tmp_path / "cut.xml.gz"
    packed = gzip.compress(FIXTURE.read_bytes())
    cut.write_bytes(packed[: len(packed) // 2])
    with pytest.raises(InputFileError, match=r"truncated gzip\): nothing was imported"):
        read(cut)


def test_an_undecodable_byte_is_refused_with_its_line_and_the_encoding_to_use(
    tmp_path: Path,
) -> None:
    bad = tmp_path / "latin1.xml"
    bad.write_bytes(FIXTURE.read_bytes().replace(b"Ada Okafor]]></wp:comment_author>\n\t\t\t<wp"
                                                 b":comment_author_email><![CDATA[Ada@",
                                                 b"Ad\xe9 Okafor]]></wp:comment_author>\n\t\t\t"
                                                 b"<wp:comment_author_email><![CDATA[Ada@"))  # fmt: skip
    with pytest.raises(InputFileError) as e:
        read(bad)
    assert str(e.value).startswith(f"{bad}:31: holds the byte 0xE9, which is not valid utf-8")
    assert "--encoding cp1252" in str(e.value)
    with InputFile(bad, "cp1252") as f:
        items = list(WxrSource({}).read(f))
    names = [i.name for i in items if isinstance(i, ParsedRow) and i.verb == "comment"]
    assert names[0] == "Adé Okafor"


@pytest.mark.parametrize(
    ("content", "problem", "hint"),
    [
        ('<?xml version="1.0"?><rss version="2.0"><channel><title>x</title></channel></rss>',
         "an RSS file without the WordPress export namespace", "use `karmabank import feed`"),
        ('<feed xmlns="http://www.w3.org/2005/Atom"><title>x</title></feed>',
         "its root element is <feed>, not <rss>", "use `karmabank import feed`"),
        ("occurred_at,person,verb,direction\n", "not well-formed XML (syntax error, column 1)",
         "use `karmabank import csv`"),
        ("", "not well-formed XML (no element found, column 1)", None),
    ],
)  # fmt: skip
def test_a_file_of_another_format_names_the_format_it_looks_like(
    tmp_path: Path, content: str, problem: str, hint: str | None
) -> None:
    path = tmp_path / "x.xml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputFileError) as e:
        read(path)
    assert problem in str(e.value) and str(e.value).startswith(f"{path}:1: ")
    assert (hint in str(e.value)) if hint else ("looks like" not in str(e.value))


def test_wordpress_times_and_text() -> None:
    assert wp_time("2024-03-02 19:15:00") == 1709406900_000000
    with pytest.raises(ValueError):
        wp_time("2024-03-02 25:15:00")
    with pytest.raises(ValueError):
        wp_time("0000-00-00 00:00:00")
    assert plain_text("a<br />b &amp;\n\n <a href='x'>c</a></p>") == "a b & c"
    assert plain_text("<p></p>") is None
    skipped = [i for i in read(FIXTURE) if isinstance(i, SkippedRow)]
    assert [s.line for s in skipped] == [81, 107, 120, 133, 196]


def test_a_reply_finds_the_comment_it_answers_wherever_it_is_in_the_post(tmp_path: Path) -> None:
    text = FIXTURE.read_text(encoding="utf-8")
    first = text.index("\t\t<wp:comment>\n\t\t\t<wp:comment_id>101<")
    second = text.index("\t\t<wp:comment>\n\t\t\t<wp:comment_id>102<")
    third = text.index("\t\t<wp:comment>\n\t\t\t<wp:comment_id>104<")
    # 102 (Mara to Ada) and 103 (Ben to Ada) come before 101, Ada's comment they answer
    swapped = text[:first] + text[second:third] + text[first:second] + text[third:]
    path = tmp_path / "swapped.xml"
    path.write_text(swapped, encoding="utf-8")
    rows = {i.source_key: i for i in read(path) if isinstance(i, ParsedRow)}
    ada = IdentityKey("email", "ada@example.net")
    assert (rows[f"{SITE}:102"].person, rows[f"{SITE}:102"].direction) == (ada, "give")
    assert rows[f"{SITE}:103:reply-to:101"].target == ada
    assert {k: (r.person, r.verb, r.direction) for k, r in rows.items()} == {
        k: (r.person, r.verb, r.direction) for k, r in
        ((i.source_key, i) for i in read(FIXTURE) if isinstance(i, ParsedRow))
    }  # fmt: skip
