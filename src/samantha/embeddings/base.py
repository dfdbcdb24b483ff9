"""The embedder contract: texts in, unit-length float32 rows out."""

from __future__ import annotations

import hashlib
import importlib.util
import re
import threading
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import numpy.typing as npt

from samantha.config import EMBEDDERS
from samantha.errors import ConfigError

Vectors = npt.NDArray[np.float32]
_WORD = re.compile(r"[a-z0-9']+")
RECENT = 4096  # texts whose vectors a costly embedder keeps (:class:`Recent`)


class Embedder(ABC):
    name: str
    dim: int
    # ``load_embedder(name)`` builds the same embedder again (in another process)
    portable: bool = False
    # how far its cosine similarities spread (their standard deviation between questions
    # and the turns they are asked of), which weighs it in a :class:`Blend`; a similarity
    # below which a text is not recalled by its meaning where there are too few to tell
    # which stand out (the 80th percentile; recall's ``standout``); and one at which it is
    # close in meaning (the 93rd; recall's ``bears``). All as measured for MiniLM on the
    # LoCoMo dev split
    spread: float = 0.116
    floor: float = 0.2
    close: float = 0.3

    @abstractmethod
    def embed(self, texts: Sequence[str]) -> Vectors:
        """One unit-length row per text (a zero row for empty text)."""

    def embed_query(self, texts: Sequence[str]) -> Vectors:
        """Rows for questions asked of what :meth:`embed` embedded: the same rows, but for
        a model trained to tell questions from passages."""
        return self.embed(texts)

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
        """A row per text: those kept, and ``model``'s for the rest (each new text once),
        which it is given :func:`plain`."""
        texts = [plain(t) for t in texts]
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


class Blend(Embedder):
    """Several models' unit rows side by side, each scaled so that the similarity of two
    rows is a weighted mean of the models' own: the models disagree where each errs, so
    their mean ranks better than either. A model weighs the inverse of its ``spread``, so
    that each moves the mean alike (e5's similarities lie four times closer together than
    MiniLM's and weigh four times as much).

    On the LoCoMo dev split, the embedding alone found 0.618 of the evidence in its first
    ten (categories 1-4) with MiniLM, 0.615 with e5 and 0.660 with the two (multi-hop
    0.377, 0.372 and 0.410)."""

    def __init__(self, parts: Sequence[Embedder]) -> None:
        if len(parts) < 2:
            raise ConfigError("a blend of embedders needs two or more")
        inverse = [1.0 / part.spread for part in parts]
        self.parts = tuple(parts)
        self.weights = tuple(w / sum(inverse) for w in inverse)
        self._scales = [np.float32(np.sqrt(w)) for w in self.weights]
        self.name = "+".join(part.name for part in parts)
        self.dim = sum(part.dim for part in parts)
        self.portable = all(part.portable for part in parts)
        self.spread = sum(w * part.spread for w, part in zip(self.weights, parts, strict=True))
        self.floor = sum(w * part.floor for w, part in zip(self.weights, parts, strict=True))
        self.close = sum(w * part.close for w, part in zip(self.weights, parts, strict=True))
        self._pool: ThreadPoolExecutor | None = None

    def embed(self, texts: Sequence[str]) -> Vectors:
        return self._joined([part.embed(texts) for part in self.parts])

    def embed_query(self, texts: Sequence[str]) -> Vectors:
        """The parts embed a question side by side, since someone waits for it (24 ms a
        question one after the other, 18 side by side: e5's alone); what is kept is
        embedded one part after another, on one core, beside the language model."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(len(self.parts) - 1, "blend")
        pool = self._pool
        rest = [pool.submit(part.embed_query, texts) for part in self.parts[1:]]
        return self._joined([self.parts[0].embed_query(texts), *(f.result() for f in rest)])

    def forget(self) -> None:
        for part in self.parts:
            part.forget()

    def _joined(self, rows: Sequence[Vectors]) -> Vectors:
        scaled = [r * scale for r, scale in zip(rows, self._scales, strict=True)]
        return np.concatenate(scaled, axis=1).astype(np.float32)


def package_file(module: str, member: str, hint: str, sha256: str = "") -> Path:
    """A file a bundled model's package carries, checked against its pinned ``sha256``."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(f"package {module} is missing; {hint}")
    path = Path(next(iter(spec.submodule_search_locations))) / member
    if not path.is_file():
        raise ConfigError(f"{path} is missing; {hint}")
    if sha256 and hashlib.sha256(path.read_bytes()).hexdigest() != sha256:
        raise ConfigError(f"{path} does not match its pinned sha256; reinstall it")
    return path


def plain(text: str) -> str:
    """``text`` as a model's tokenizer can take it: valid UTF-8 (a lone surrogate, which
    JSON can carry, replaced) and no NUL, which ends a C string there."""
    return text.encode("utf-8", "replace").decode("utf-8").replace("\x00", " ")


def normalise(rows: Vectors) -> Vectors:
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    unit: Vectors = (rows / norms).astype(np.float32)
    return unit


def load_embedder(spec: str, threads: int = 1) -> Embedder | None:
    """The embedder for ``spec``; ``none`` turns dense recall off. Specs joined by "+"
    (``onnx:minilm+e5:small``) make a :class:`Blend` of them."""
    if "+" in spec:
        parts = [load_embedder(part, threads) for part in spec.split("+")]
        if any(part is None for part in parts):
            raise ConfigError(f"embedder {spec!r}: every part of a blend must be a model")
        return Blend([part for part in parts if part is not None])
    provider, _, model = spec.partition(":")
    if provider == "none":
        return None
    if provider == "hash":
        return HashEmbedder(int(model) if model.isdigit() else 256)
    if provider == "onnx":
        from samantha.embeddings.onnx import OnnxEmbedder

        return OnnxEmbedder(model or "minilm", threads=threads)
    if provider == "e5":
        from samantha.embeddings.e5 import E5Embedder

        return E5Embedder(model or "small", threads=threads)
    raise ConfigError(f"unknown embedder {spec!r}; use {EMBEDDERS}")
