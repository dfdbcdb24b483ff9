"""The embedder contract: texts in, unit-length float32 rows out."""

from __future__ import annotations

import hashlib
import re
from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from samantha.errors import ConfigError

Vectors = npt.NDArray[np.float32]
_WORD = re.compile(r"[a-z0-9']+")


class Embedder(ABC):
    name: str
    dim: int
    # ``load_embedder(name)`` builds the same embedder again (in another process)
    portable: bool = False

    @abstractmethod
    def embed(self, texts: Sequence[str]) -> Vectors:
        """One unit-length row per text (a zero row for empty text)."""


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
