"""Issue affinity (PRODUCT.md §3): how much a person writes about an issue.

Each person's texts (comments, posts, replies) together form one document; each issue is a
query (its keywords, each counted twice, and its description). The score is Okapi BM25 with
Lucene's idf `ln(1 + (N − df + 0.5) / (df + 0.5))`, normalised per issue to [0, 1] by the best
person, with the query terms that contributed most as the "why".

People with no text at all have no row: their affinity is *unknown*, not zero, and the
influence measure says so instead of ranking them as uninterested.

Why BM25 by hand on scipy.sparse rather than bm25s: it is thirty lines of column-wise code over
one CSR doc-term matrix, and the "why" needs each query term's contribution per person, which
bm25s computes internally but does not return (it gives top-k documents and scores). Writing
it out also pins the exact formula the tests work by hand, with no tokenizer or stemmer of the
library's own in between.

Tokenizing is column-wise too, on Arrow's RE2: lower-case (`utf8_lower`), split on runs of
characters that are not letters, digits or combining marks (`[^\\pL\\pN\\pM]+`, so "don't"
gives "don" and "t", and Devanagari words keep their vowel signs), drop STOPWORDS, strip one
trailing "s" from words of four letters or more not ending in "ss" ("rivers" → "river",
"class" stays). Queries go through the same function.

`method="semantic"` scores by meaning instead of shared words, with a sentence-embedding model
installed by the `semantic` extra (`measures.semantic`): each text and each issue ("name.
keywords. description") becomes a unit vector; a person's vector is the normalised mean of
their texts' vectors; `score = (cos − semantic_floor) / (1 − semantic_floor)` clipped to [0, 1]
takes the place of BM25 (in the `bm25` column), normalised per issue by the best person just the
same, with the person's text closest to the issue, shortened, as the "why". Without the extra it
falls back to BM25 and says so in one line: `fallback_note(table)`, for the caller to show.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
from scipy import sparse

from karmabank.errors import ConfigError, SemanticUnavailable
from karmabank.measures import semantic
from karmabank.measures.settings import AffinitySettings

DEFAULTS = AffinitySettings()

AFFINITY_SCHEMA = pa.schema(
    [
        ("person_id", pa.int64()),
        ("issue_id", pa.int64()),
        ("bm25", pa.float64()),
        ("affinity", pa.float64()),  # bm25 / the issue's best bm25 (0 if that is 0)
        ("terms", pa.string()),  # the query terms found, most contributing first; "" if none
    ]
)
# schema metadata of affinity's result: the method that scored it, the model (semantic), and
# the one-line note when the method asked for could not be used
METHOD_KEY, MODEL_KEY, NOTE_KEY = b"karmabank.method", b"karmabank.model", b"karmabank.note"
METHODS = ("bm25", "semantic")
MAX_TERMS = 5  # terms named in the "why"
KEYWORD_WEIGHT = 2  # a keyword counts as this many occurrences in the query
SNIPPET_CHARS = 60  # the semantic "why": the person's closest text, cut to this many characters
NOT_A_WORD = r"[^\pL\pN\pM]+"  # RE2: anything but letters, digits and combining marks
STOPWORDS = frozenset(
    """
    a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing don down during each few for
    from further had has have having he her here hers herself him himself his how i if in into
    is it its itself just let me more most my myself no nor not now of off on once only or
    other our ours ourselves out over own s same she should so some such t than that the their
    theirs them themselves then there these they this those through to too under until up us
    very was we were what when where which while who whom why will with would you your yours
    yourself yourselves
    """.split()
)


@dataclass(frozen=True)
class IssueText:
    id: int
    name: str
    keywords: tuple[str, ...]
    description: str = ""


def stem(token: str) -> str:
    """The trivial stemmer: one trailing "s" off words of 4+ letters not ending in "ss"."""
    if len(token) >= 4 and token.endswith("s") and not token.endswith("ss"):
        return token[:-1]
    return token


@dataclass(frozen=True)
class _Tokens:
    row: npt.NDArray[np.int64]  # the input row of each kept token
    raw: list[str]  # each distinct raw token (lower-cased)
    raw_id: npt.NDArray[np.int64]  # each kept token as an index into `raw`
    terms: list[str]  # each distinct term (stemmed)
    term_id: npt.NDArray[np.int64]  # each kept token as an index into `terms`


def tokenize(texts: pa.Array | pa.ChunkedArray) -> _Tokens:
    """Every token of `texts`, column-wise; nulls and empty strings give none."""
    parts = pc.split_pattern_regex(pc.utf8_lower(texts), pattern=NOT_A_WORD)
    if isinstance(parts, pa.ChunkedArray):
        parts = parts.combine_chunks()
    flat = pc.list_flatten(parts)
    row = np.asarray(pc.list_parent_indices(parts).to_numpy(), dtype=np.int64)
    nonempty = pc.greater(pc.utf8_length(flat), 0)
    flat, row = flat.filter(nonempty), row[np.asarray(nonempty.to_numpy(zero_copy_only=False))]
    encoded = pc.dictionary_encode(flat)
    raw: list[str] = encoded.dictionary.to_pylist()
    # one Python step per distinct word (not per token): stopwords out, stems merged
    index: dict[str, int] = {}
    raw_to_term = np.full(len(raw), -1, dtype=np.int64)
    for i, word in enumerate(raw):
        if word not in STOPWORDS:
            raw_to_term[i] = index.setdefault(stem(word), len(index))
    terms = list(index)
    raw_id = np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
    term_id = raw_to_term[raw_id]
    kept = term_id >= 0
    return _Tokens(row[kept], raw, raw_id[kept], terms, term_id[kept])


def _query(
    issue: IssueText, vocabulary: dict[str, int]
) -> tuple[list[int], list[float], list[str]]:
    """The issue's query terms present in the corpus, in query order (keywords first): their
    term ids, weights (occurrences, keywords counted KEYWORD_WEIGHT times) and labels (the first
    word of the query that gave the term)."""
    keywords = " ".join(issue.keywords)
    tokens = tokenize(pa.array([keywords, issue.description], pa.string()))
    weights: dict[str, float] = {}
    labels: dict[str, str] = {}
    for r, raw, t in zip(tokens.row, tokens.raw_id, tokens.term_id, strict=True):
        term = tokens.terms[t]
        weights[term] = weights.get(term, 0.0) + (KEYWORD_WEIGHT if r == 0 else 1)
        labels.setdefault(term, tokens.raw[raw])
    present = [t for t in weights if t in vocabulary]
    return (
        [vocabulary[t] for t in present],
        [weights[t] for t in present],
        [labels[t] for t in present],
    )


def affinity(
    texts: pa.Table,
    issues: Sequence[IssueText],
    settings: AffinitySettings = DEFAULTS,
    *,
    method: str | None = None,
) -> pa.Table:
    """The affinity of every person with a word of text (after stopwords) to every issue: one
    row per (person, issue), sorted by person_id then in the order of `issues`
    (AFFINITY_SCHEMA).

    `texts` has person_id (int64) and text (string), any number of rows per person; null and
    empty texts are ignored. For a person p (document of length |p| tokens, corpus average
    avgdl over N people) and an issue with query weights q_t:
    `bm25 = Σ_t q_t × idf_t × tf(t, p)(k1 + 1) / (tf(t, p) + k1(1 − b + b|p|/avgdl))`,
    `idf_t = ln(1 + (N − df_t + 0.5) / (df_t + 0.5))`.

    `method` (default: `settings.method`) "semantic" scores with sentence embeddings instead
    (see the module docstring): the same people, rows and columns, `bm25` holding the semantic
    score. When the `semantic` extra is not installed it scores with BM25 and
    `fallback_note(result)` says so in one line; it never raises for that. The result's
    schema metadata names the method used (METHOD_KEY)."""
    method = method or settings.method
    if method not in METHODS:
        raise ConfigError(f"unknown affinity method {method!r} (methods: {', '.join(METHODS)})")
    issue_ids = [issue.id for issue in issues]
    if len(set(issue_ids)) != len(issue_ids):
        raise ValueError("affinity: duplicate issue ids")
    texts = texts.filter(pc.is_valid(texts["person_id"]))
    if method == "semantic":
        try:
            return _semantic(texts, issues, settings)
        except SemanticUnavailable as e:
            return _bm25(texts, issues, settings).replace_schema_metadata(
                {METHOD_KEY: b"bm25", NOTE_KEY: str(e).encode()}
            )
    return _bm25(texts, issues, settings).replace_schema_metadata({METHOD_KEY: b"bm25"})


def fallback_note(table: pa.Table) -> str | None:
    """The one-line message `affinity` leaves on its result when it could not use the method
    asked for and scored with BM25 instead (for the caller to show, e.g. on stderr), or None."""
    note = (table.schema.metadata or {}).get(NOTE_KEY)
    return None if note is None else bytes(note).decode()


def _bm25(texts: pa.Table, issues: Sequence[IssueText], settings: AffinitySettings) -> pa.Table:
    issue_ids = [issue.id for issue in issues]
    tokens = tokenize(texts["text"])
    person_of_row = np.asarray(texts["person_id"].to_numpy(), dtype=np.int64)
    people, doc = np.unique(person_of_row[tokens.row], return_inverse=True)
    n_docs, n_terms = people.size, len(tokens.terms)
    if n_docs == 0 or not issues:
        return AFFINITY_SCHEMA.empty_table()

    tf = sparse.csr_matrix(
        (np.ones(doc.size), (doc, tokens.term_id)), shape=(n_docs, n_terms), dtype=np.float64
    )
    tf.sum_duplicates()
    length = np.asarray(tf.sum(axis=1), dtype=np.float64).ravel()
    df = np.bincount(tf.indices, minlength=n_terms)
    idf = np.log1p((n_docs - df + 0.5) / (df + 0.5))
    k1, b = settings.k1, settings.b
    doc_of_entry = np.repeat(np.arange(n_docs), np.diff(tf.indptr))
    norm = k1 * (1 - b + b * length[doc_of_entry] / length.mean())
    saturated = sparse.csr_matrix(
        (tf.data * (k1 + 1) / (tf.data + norm), tf.indices, tf.indptr), shape=tf.shape
    ).tocsc()  # sliced by column, one issue's terms at a time
    vocabulary = {t: i for i, t in enumerate(tokens.terms)}

    bm25 = np.zeros((len(issues), n_docs))
    terms: list[pa.Array] = []
    for i, issue in enumerate(issues):  # one step per issue, column-wise over people
        term_ids, weights, labels = _query(issue, vocabulary)
        # person × query term: each term's contribution
        part = sparse.coo_matrix((n_docs, 0))
        if term_ids:
            part = sparse.coo_matrix(
                saturated[:, term_ids].multiply(np.asarray(weights) * idf[term_ids])
            )
        bm25[i] = np.bincount(part.row, weights=part.data, minlength=n_docs)
        terms.append(_top_terms(part, labels, n_docs))

    best = bm25.max(axis=1, keepdims=True)
    share = np.divide(bm25, best, out=np.zeros_like(bm25), where=best > 0)
    order = np.arange(len(issues) * n_docs).reshape(len(issues), n_docs).T.ravel()
    return pa.table(
        {
            "person_id": pa.array(np.tile(people, len(issues))[order], pa.int64()),
            "issue_id": pa.array(np.repeat(issue_ids, n_docs)[order], pa.int64()),
            "bm25": pa.array(bm25.ravel()[order], pa.float64()),
            "affinity": pa.array(share.ravel()[order], pa.float64()),
            "terms": pa.concat_arrays(terms).take(pa.array(order)),
        },
        schema=AFFINITY_SCHEMA,
    )


def _top_terms(part: sparse.coo_matrix, labels: list[str], n_docs: int) -> pa.Array:
    """Per person, the labels of the (at most MAX_TERMS) terms with a positive contribution,
    largest first, ties in query order, joined by ", "."""
    positive = part.data > 0
    row, col, value = part.row[positive], part.col[positive], part.data[positive]
    order = np.lexsort((col, -value, row))
    row, col = row[order], col[order]
    starts = np.searchsorted(row, row, side="left")
    keep = np.arange(row.size) - starts < MAX_TERMS
    row, col = row[keep], col[keep]
    offsets = np.concatenate([[0], np.cumsum(np.bincount(row, minlength=n_docs))])
    names = pa.array(labels, pa.string()).take(pa.array(col, pa.int64()))
    lists = pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), names)
    return pc.binary_join(lists, ", ")


def _semantic(texts: pa.Table, issues: Sequence[IssueText], settings: AffinitySettings) -> pa.Table:
    """Affinity by sentence embeddings (the module docstring); SemanticUnavailable when the
    model cannot be loaded."""
    # the people BM25 scores, from the texts BM25 reads: those with a word after stopwords
    texts = texts.take(pa.array(np.unique(tokenize(texts["text"]).row), pa.int64()))
    person_of_row = np.asarray(texts["person_id"].to_numpy(), dtype=np.int64)
    people, doc = np.unique(person_of_row, return_inverse=True)
    n_docs, n_rows = people.size, texts.num_rows
    metadata = {METHOD_KEY: b"semantic", MODEL_KEY: semantic.MODEL_NAME.encode()}
    if n_docs == 0 or not issues:
        return AFFINITY_SCHEMA.empty_table().replace_schema_metadata(metadata)
    model = semantic.load_model()

    # each distinct text is embedded once ("Thanks!" a thousand times is one embedding)
    encoded = pc.dictionary_encode(texts["text"].combine_chunks())
    distinct = np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
    vectors = model.embed(encoded.dictionary.to_pylist())
    queries = model.embed([_issue_text(issue) for issue in issues])
    # a person's vector: the mean of their texts' vectors (a text counted as often as written)
    member = sparse.csr_matrix(
        (np.ones(n_rows), (doc, distinct)), shape=(n_docs, len(encoded.dictionary))
    )
    mean = np.asarray(member @ vectors.astype(np.float64))
    mean /= np.linalg.norm(mean, axis=1, keepdims=True).clip(1e-12)
    cosine = queries.astype(np.float64) @ mean.T  # issue × person
    floor = settings.semantic_floor
    score = np.clip((cosine - floor) / (1 - floor), 0.0, 1.0)
    best = score.max(axis=1, keepdims=True)
    share = np.divide(score, best, out=np.zeros_like(score), where=best > 0)

    # the "why": per (issue, person), the person's text closest to the issue
    closeness = (vectors @ queries.T)[distinct]  # row × issue
    snippet = _snippet(texts["text"].combine_chunks())
    terms: list[pa.Array] = []
    for i in range(len(issues)):  # one step per issue, column-wise over people
        by_person = np.lexsort((-closeness[:, i], doc))  # each person's closest text first
        first = by_person[np.searchsorted(doc[by_person], np.arange(n_docs))]
        terms.append(
            pc.if_else(pa.array(score[i] > 0), snippet.take(pa.array(first, pa.int64())), "")
        )

    order = np.arange(len(issues) * n_docs).reshape(len(issues), n_docs).T.ravel()
    return pa.table(
        {
            "person_id": pa.array(np.tile(people, len(issues))[order], pa.int64()),
            "issue_id": pa.array(np.repeat([i.id for i in issues], n_docs)[order], pa.int64()),
            "bm25": pa.array(score.ravel()[order], pa.float64()),
            "affinity": pa.array(share.ravel()[order], pa.float64()),
            "terms": pa.concat_arrays(terms).take(pa.array(order)),
        },
        schema=AFFINITY_SCHEMA.with_metadata(metadata),
    )


def _issue_text(issue: IssueText) -> str:
    """What the semantic method embeds for an issue: "name. keyword, keyword. description"."""
    parts = (issue.name, ", ".join(issue.keywords), issue.description)
    return ". ".join(part.strip() for part in parts if part.strip())


def _snippet(texts: pa.Array) -> pa.Array:
    """Each text on one line, quoted, cut to SNIPPET_CHARS characters with "…" if longer."""
    line = pc.utf8_trim_whitespace(pc.replace_substring_regex(texts, r"\s+", " "))
    cut = pc.binary_join_element_wise(
        pc.utf8_rtrim_whitespace(pc.utf8_slice_codeunits(line, 0, SNIPPET_CHARS - 1)), "…", ""
    )
    short = pc.if_else(pc.greater(pc.utf8_length(line), SNIPPET_CHARS), cut, line)
    return pc.binary_join_element_wise('"', short, '"', "")
