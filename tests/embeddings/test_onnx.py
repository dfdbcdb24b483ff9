import numpy as np
import pytest

from samantha.embeddings import HashEmbedder, load_embedder
from samantha.errors import ConfigError


def test_the_bundled_model_embeds_meaning() -> None:
    embedder = load_embedder("onnx:minilm")
    assert embedder is not None and embedder.dim == 384
    rows = embedder.embed(
        ["My dog loves the beach.", "Our puppy enjoys running on the sand.", "Tax forms are due."]
    )
    assert rows.shape == (3, 384)
    assert np.allclose(np.linalg.norm(rows, axis=1), 1.0, atol=1e-4)
    assert rows[0] @ rows[1] > rows[0] @ rows[2] + 0.2
    assert embedder.embed([]).shape == (0, 384)
    assert embedder.embed(["word " * 5000]).shape == (1, 384)  # truncated, not an error


def test_hash_embedder_and_bad_specs() -> None:
    rows = HashEmbedder(64).embed(["a b c", "", "a b c"])
    assert np.allclose(rows[0], rows[2]) and not rows[1].any()
    assert load_embedder("none") is None
    with pytest.raises(ConfigError):
        load_embedder("word2vec:x")
    with pytest.raises(ConfigError):
        load_embedder("onnx:bert-large")
