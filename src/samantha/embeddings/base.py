"""The embedder contract: texts in, unit-length float32 rows out."""

from __future__ import annotations

import hashlib
import re
import threading
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

from samantha.errors import ConfigError

Vectors = npt.NDArray[np.float32]
_WORD = re.compile(r"[a-z0-9']+")
RECENT = 4096  # texts whose vectors a costly embedder keeps (:class:`Recent`)


class Embedder(ABC):
    name: str
    dim: int
    # ``load_embedder(name)`` builds the same embedder again (in another process)
    portable: bool = False

    @abstractmethod
    def embed(self, texts: Sequence[str]) -> Vectors:
        """One unit-length row per text (a zero row for empty text)."""

    def forget(self) -> None:  # noqa: B027 - most embedders keep nothing
        """Drop any vectors kept of texts embedded before (a person was deleted)."""


class Recent:
    """The vectors of the last :data:`RECENT` texts a model embedded, so that a text is run
    through it once: a person's message is embedded as the question recall asks, then
    again, the same words, when learning indexes it a few seconds later, in the same
    process (a person's recall worker draws for them too). An exchange ran three texts
    through the bundled model where two were new: 8.8 ms of CPU for an 18-token message on
    this machine, a seventh of what the exchange cost its memory in all.

    Texts are held by a digest, not in words; the vectors go when a person is deleted
    (:meth:`forget`). Shared by the threads that embed (recall's and learning's)."""

    def __init__(self, size: int = RECENT) -> None:
        self.size = size
        self._held: OrderedDict[bytes, Vectors] = OrderedDict()
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str], model: Callable[[Sequence[str]], Vectors]) -> Vectors:
        """A row per text: those kept, and ``model``'s for the rest (each new text once)."""
        keys = [hashlib.blake2b(t.encode(), digest_size=16).digest() for t in texts]
        with self._lock:
            rows = [self._kept(k) for k in keys]
        new = {k: t for k, t, row in zip(keys, texts, rows, strict=True) if row is None}
        ran = model(list(new.values())) if new else ()  # all kept: the model is not asked
        found = {k: row.copy() for k, row in zip(new, ran, strict=True)}
        if found:
            with self._lock:
                self._held.update(found)
                while len(self._held) > self.size:
                    self._held.popitem(last=False)
        whole = [found[k] if row is None else row for k, row in zip(keys, rows, strict=True)]
        return np.stack(whole) if whole else model([])

    def _kept(self, key: bytes) -> Vectors | None:
        row = self._held.get(key)
        if row is not None:
            self._held.move_to_end(key)
        return row

    def forget(self) -> None:
        with self._lock:
            self._held.clear()


class HashEmbedder(Embedder):
    """Words hashed into a fixed number of buckets: crude, instant, deterministic."""

    portable = True

    def __init__(self, dim: int = 256) -> None:
        self.name = f"hash:{dim}"
        self.dim = dim

    def embed(self, texts: Sequence[str]) -> Vectors:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in _WORD.findall(text.lower()):
                digest = hashlib.blake2b(word.encode(), digest_size=4).digest()
                out[row, int.from_bytes(digest, "little") % self.dim] += 1.0
        return normalise(out)


def normalise(rows: Vectors) -> Vectors:
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    unit: Vectors = (rows / norms).astype(np.float32)
    return unit


def load_embedder(spec: str, threads: int = 1) -> Embedder | None:
    """The embedder for ``spec``; ``none`` turns dense recall off."""
    provider, _, model = spec.partition(":")
    if provider == "none":
        return None
    if provider == "hash":
        return HashEmbedder(int(model) if model.isdigit() else 256)
    if provider == "onnx":
        from samantha.embeddings.onnx import OnnxEmbedder

        return OnnxEmbedder(model or "minilm", threads=threads)
    raise ConfigError(f"unknown embedder {spec!r}; use onnx:minilm, hash: or none")
