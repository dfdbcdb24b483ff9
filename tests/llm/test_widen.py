"""Rewriting a model's Q6_K tensors as Q8_0: the same model, in blocks that batch."""

from __future__ import annotations

import hashlib
from pathlib import Path

import gguf
import numpy as np
import pytest
from gguf import GGMLQuantizationType as Q
from gguf import quants

from samantha.errors import ConfigError
from samantha.llm import catalog
from samantha.llm.catalog import CatalogModel, Part
from samantha.llm.widen import widen

Q6K_BLOCK = 210  # bytes for 256 weights: 4-bit lows, 2-bit highs, 16 scales, a float16 scale


def _q6k_rows(rows: int, blocks: int, seed: int) -> np.ndarray:
    """Random but well-formed Q6_K rows: any bits are valid weights under a sane scale."""
    data = np.random.default_rng(seed).integers(0, 256, (rows, blocks, Q6K_BLOCK), np.uint8)
    data[:, :, -2:] = np.frombuffer(np.float16(0.002).tobytes(), np.uint8)
    return data.reshape(rows, blocks * Q6K_BLOCK)


def _model(path: Path) -> dict[str, np.ndarray]:
    """A small GGUF with metadata of every common kind and Q6_K, Q8_0 and F32 tensors."""
    w = gguf.GGUFWriter(path, "llama")
    w.add_name("tiny")
    w.add_context_length(64)
    w.add_float32("tiny.rope_scale", 0.5)
    w.add_bool("tiny.flag", True)
    w.add_token_list(["<s>", "hello", "wörld"])
    w.add_array("tiny.ints", [3, 1, 4])
    tensors = {
        "output.weight": _q6k_rows(8, 2, 1),
        "blk.0.ffn_down.weight": _q6k_rows(4, 1, 2),
        "blk.0.attn_q.weight": quants.quantize(
            np.random.default_rng(3).standard_normal((4, 64)).astype(np.float32), Q.Q8_0
        ),
        "blk.0.attn_norm.weight": np.arange(64, dtype=np.float32),
    }
    kinds = {
        "output.weight": Q.Q6_K,
        "blk.0.ffn_down.weight": Q.Q6_K,
        "blk.0.attn_q.weight": Q.Q8_0,
    }
    for name, data in tensors.items():
        w.add_tensor(name, data, raw_dtype=kinds.get(name))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return tensors


def test_q6k_tensors_become_q8_0_holding_the_same_weights(tmp_path: Path) -> None:
    _model(tmp_path / "in.gguf")
    assert widen(tmp_path / "in.gguf", tmp_path / "out.gguf") == 2
    before, after = gguf.GGUFReader(tmp_path / "in.gguf"), gguf.GGUFReader(tmp_path / "out.gguf")
    fields = {f.name: f.contents() for f in before.fields.values() if not f.name.startswith("GGUF")}
    assert fields == {
        f.name: f.contents() for f in after.fields.values() if not f.name.startswith("GGUF")
    }
    assert fields["tokenizer.ggml.tokens"] == ["<s>", "hello", "wörld"]
    assert [t.name for t in before.tensors] == [t.name for t in after.tensors]
    for old, new in zip(before.tensors, after.tensors, strict=True):
        assert old.shape.tolist() == new.shape.tolist()
        if old.tensor_type != Q.Q6_K:  # everything else is copied byte for byte
            assert new.tensor_type == old.tensor_type
            assert new.data.tobytes() == old.data.tobytes()
            continue
        assert new.tensor_type == Q.Q8_0
        weights = quants.dequantize(old.data, Q.Q6_K).reshape(-1, 32)
        again = quants.dequantize(new.data, Q.Q8_0).reshape(-1, 32)
        # each weight within half a Q8_0 step of its block (the block's largest / 127),
        # plus what storing that step as float16 moves it (127 steps of 2^-11 of a step)
        step = np.abs(weights).max(axis=1, keepdims=True) / 127
        assert np.all(np.abs(again - weights) <= step * (0.5 + 127 / 2048) + 1e-7)
        assert np.abs(weights).max() > 0


def test_the_rewrite_is_the_same_bytes_every_time(tmp_path: Path) -> None:
    _model(tmp_path / "in.gguf")
    widen(tmp_path / "in.gguf", tmp_path / "a.gguf")
    widen(tmp_path / "in.gguf", tmp_path / "b.gguf")
    assert (tmp_path / "a.gguf").read_bytes() == (tmp_path / "b.gguf").read_bytes()


@pytest.mark.parametrize("content", [b"", b"not a model at all" * 100, b"GGUF\x03\x00\x00\x00"])
def test_what_is_not_a_model_is_refused_and_leaves_nothing(tmp_path: Path, content: bytes) -> None:
    (tmp_path / "in.gguf").write_bytes(content)
    with pytest.raises(ConfigError, match="not a GGUF model"):
        widen(tmp_path / "in.gguf", tmp_path / "out.gguf")
    assert not (tmp_path / "out.gguf").exists()


def test_a_cut_off_model_leaves_nothing(tmp_path: Path) -> None:
    _model(tmp_path / "in.gguf")
    whole = (tmp_path / "in.gguf").read_bytes()
    (tmp_path / "cut.gguf").write_bytes(whole[: len(whole) - 300])
    with pytest.raises(ConfigError):
        widen(tmp_path / "cut.gguf", tmp_path / "out.gguf")
    assert not (tmp_path / "out.gguf").exists()


def test_a_widened_real_model_loads_and_answers_as_before(tmp_path: Path) -> None:
    """The smallest bundled model, its Q4_1 tensors rewritten as Q8_0, run by llama.cpp."""
    import xllamacpp

    source = catalog.resolve("smollm2-135m", tmp_path)
    assert widen(source, tmp_path / "wide.gguf", ("Q4_1",)) > 100

    def first_words(path: Path) -> str:
        params = xllamacpp.CommonParams()
        params.model.path = str(path)
        params.n_ctx = 512
        params.verbosity = -1
        params.port = 0
        params.api_keys = ["unused"]
        engine = xllamacpp.Server(params)
        request = {
            "messages": [{"role": "user", "content": "What is the capital of France?"}],
            "max_tokens": 8,
            "temperature": 0.0,
        }
        return str(engine.handle_chat_completions(request)["choices"][0]["message"]["content"])

    # weights within Q8_0's rounding: the greedy reply begins the same, though a model this
    # small can part ways a few tokens in ("L'Étoile, la Mar…" and "L'Étoile, la Cit…")
    before = first_words(source)
    assert len(before.strip()) >= 10
    assert first_words(tmp_path / "wide.gguf")[:10] == before[:10]


@pytest.fixture
def widened_split_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[CatalogModel, bytes]:
    """A catalog model packaged as one part that widens when it is assembled."""
    _model(tmp_path / "in.gguf")
    whole = (tmp_path / "in.gguf").read_bytes()
    widen(tmp_path / "in.gguf", tmp_path / "expected.gguf")
    site = tmp_path / "site" / "fakewide" / "data"
    site.mkdir(parents=True)
    (site.parent / "__init__.py").write_text("")
    (site / "part01.bin").write_bytes(whole)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    model = CatalogModel(
        "fake-wide",
        "test",
        "MIT",
        len(whole),
        hashlib.sha256(whole).hexdigest(),
        (Part("fakewide", "1.0", "fakewide/data/part01.bin"),),
        widen=("Q6_K",),
        widened_sha256=hashlib.sha256((tmp_path / "expected.gguf").read_bytes()).hexdigest(),
    )
    monkeypatch.setitem(catalog.CATALOG, model.name, model)
    return model, (tmp_path / "expected.gguf").read_bytes()


def test_assembling_a_model_that_widens_keeps_only_the_widened_file(
    widened_split_model: tuple[CatalogModel, bytes], tmp_path: Path
) -> None:
    model, expected = widened_split_model
    models = tmp_path / "models"
    path = catalog.assemble(model.name, models)
    assert path.name == "fake-wide-q8.gguf" and path.read_bytes() == expected
    assert catalog.resolve(model.name, models) == path
    assert catalog.verify(model.name, models)
    assert list(models.iterdir()) == [path]


def test_a_model_joined_by_an_earlier_version_is_widened_in_place(
    widened_split_model: tuple[CatalogModel, bytes], tmp_path: Path
) -> None:
    model, expected = widened_split_model
    models = tmp_path / "models"
    models.mkdir()
    (models / model.joined).write_bytes((tmp_path / "in.gguf").read_bytes())
    path = catalog.assemble(model.name, models)
    assert path.read_bytes() == expected
    assert list(models.iterdir()) == [path]  # the unwidened copy is gone


def test_a_widened_file_with_the_wrong_checksum_keeps_nothing(
    widened_split_model: tuple[CatalogModel, bytes], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model, _ = widened_split_model
    wrong = CatalogModel(
        model.name, "", "", model.size, model.sha256, model.parts, model.widen, "0" * 64
    )
    monkeypatch.setitem(catalog.CATALOG, model.name, wrong)
    with pytest.raises(ConfigError, match="nothing was kept"):
        catalog.assemble(model.name, tmp_path / "models")
    assert list((tmp_path / "models").iterdir()) == []
