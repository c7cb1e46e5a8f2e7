"""Issue affinity: BM25 of each person's texts against each issue's keywords and description."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from karmabank.errors import ConfigError
from karmabank.measures.affinity import (
    AFFINITY_SCHEMA,
    AffinitySettings,
    IssueText,
    affinity,
    tokenize,
)

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


def test_semantic_without_a_model_package_says_so() -> None:
    with pytest.raises(ConfigError) as e:
        affinity(CORPUS, [RIVER], method="semantic")
    assert "no sentence-embedding package is installed" in str(e.value)
    assert "use BM25" in str(e.value)


def test_semantic_with_the_package_but_no_local_model_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "model2vec").mkdir()
    (tmp_path / "model2vec" / "__init__.py").write_text("", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ConfigError, match="no sentence-embedding model is bundled") as e:
        affinity(CORPUS, [RIVER], method="semantic")
    assert "never downloads" in str(e.value)


def test_unknown_method_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown affinity method 'tfidf'"):
        affinity(CORPUS, [RIVER], method="tfidf")
