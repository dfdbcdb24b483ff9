from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from samantha.embeddings import HashEmbedder, load_embedder
from samantha.embeddings.base import Recent, Vectors
from samantha.embeddings.onnx import OnnxEmbedder
from samantha.errors import ConfigError
from samantha.memory import Memory
from samantha.memory.recall import first_person
from samantha.store import SQLiteStore


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
    # a lone surrogate (JSON can carry one) and NUL are taken, not an error
    assert np.isfinite(embedder.embed(["\ud800 lone", "before\x00after", ""])).all()


def test_hash_embedder_and_bad_specs() -> None:
    rows = HashEmbedder(64).embed(["a b c", "", "a b c"])
    assert np.allclose(rows[0], rows[2]) and not rows[1].any()
    assert load_embedder("none") is None
    with pytest.raises(ConfigError):
        load_embedder("word2vec:x")
    with pytest.raises(ConfigError):
        load_embedder("onnx:bert-large")


def counting(embedder: OnnxEmbedder) -> list[str]:
    """The texts ``embedder`` runs through its model from now on."""
    seen: list[str] = []
    run = embedder._run

    def spy(texts: Sequence[str]) -> Vectors:
        seen.extend(texts)
        return run(texts)

    embedder._run = spy  # type: ignore[method-assign]
    return seen


def test_a_recent_text_is_run_through_the_model_once() -> None:
    embedder = load_embedder("onnx:minilm")
    assert isinstance(embedder, OnnxEmbedder)
    seen = counting(embedder)
    first = embedder.embed(["My dog loves the beach."])
    rows = embedder.embed(["Tax forms are due.", "My dog loves the beach.", "Tax forms are due."])
    assert seen == ["My dog loves the beach.", "Tax forms are due."]  # each once
    assert np.array_equal(rows[1], first[0]) and np.array_equal(rows[0], rows[2])
    alone = embedder._run(["Tax forms are due."])  # as if it came alone
    assert np.allclose(rows[0], alone[0], atol=1e-3)
    embedder.forget()  # a person was deleted: nothing is kept
    embedder.embed(["My dog loves the beach."])
    assert seen[-1] == "My dog loves the beach." and len(seen) == 4


def test_recent_keeps_the_newest_texts_and_no_more() -> None:
    seen: list[str] = []

    def model(texts: Sequence[str]) -> Vectors:
        seen.extend(texts)
        return HashEmbedder(8).embed(texts)

    recent = Recent(size=2)
    assert recent.embed([], model).shape == (0, 8)
    recent.embed(["a", "b"], model)
    recent.embed(["a"], model)  # a is now the newer of the two
    recent.embed(["c"], model)  # b goes
    recent.embed(["a", "c", "b", ""], model)
    assert seen == ["a", "b", "c", "b", ""]


async def test_her_reply_learns_the_message_recall_embedded_without_embedding_it_again(
    tmp_path: Path,
) -> None:
    embedder = load_embedder("onnx:minilm")
    assert isinstance(embedder, OnnxEmbedder)
    store = SQLiteStore(tmp_path / "m.db")
    await store.open()
    memory = Memory(store, embedder)
    try:
        theo = await store.create_person("Theo", "h-embed")
        conversation = await store.create_conversation(theo.id)
        await store.add_message(theo.id, conversation.id, "user", "I started pottery classes.")
        await memory.learn(theo.id, "Theo")  # a history to recall from
        said = "My sister Ada visits every spring."
        await store.add_message(theo.id, conversation.id, "user", said)
        seen = counting(embedder)
        await memory.recall(theo.id, said)  # as her reply does, before she answers
        await store.add_message(theo.id, conversation.id, "assistant", "Tell me about Ada!")
        await memory.learn(theo.id, "Theo")
        assert seen.count(said) == 1
        assert "Tell me about Ada!" in seen
        assert [m for m, _ in await store.search_turns(theo.id, ["ada"], 5)]  # learned
        found = await memory.recall(theo.id, "When does Ada come to visit?")
        assert found and found[0].message.content == said
    finally:
        await memory.close()
        await store.close()


def test_a_speakers_name_hides_their_own_words_from_the_model() -> None:
    """Turns never name their own speaker, but MiniLM weighs a name heavily: asked with her
    name in, the turns that name her (thanks from the other speaker) are closest; asked as
    she would say it, the turn that answers is."""
    embedder = load_embedder("onnx:minilm")
    assert embedder is not None
    answer, thanks = embedder.embed(
        [
            "I'm off to go swimming with the kids this afternoon.",
            "Thank you so much, Melanie, you're a star.",
        ]
    )
    question = "What does Melanie like to do for fun?"
    speakers = {"user": "Melanie", "assistant": "Caroline"}
    named, own = embedder.embed([question, first_person(question, speakers)])
    assert named @ thanks > named @ answer
    assert own @ answer > own @ thanks + 0.2


async def test_recall_embeds_a_question_in_its_speakers_own_words(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "m.db")
    await store.open()
    embedder = load_embedder("onnx:minilm")
    assert isinstance(embedder, OnnxEmbedder)
    memory = Memory(store, embedder)
    try:
        mel = await store.create_person("Melanie", "h-first-person")
        conversation = await store.create_conversation(mel.id)
        await store.add_message(mel.id, conversation.id, "user", "Off swimming with the kids.")
        await memory.learn(mel.id, "Melanie", other_name="Caroline")
        seen = counting(embedder)
        speakers = {"user": "Melanie", "assistant": "Caroline"}
        found = await memory.recall(mel.id, "What do Melanie's kids love?", speakers=speakers)
        assert seen == ["What do my kids love?"] and len(found) == 1
    finally:
        await memory.close()
        await store.close()
