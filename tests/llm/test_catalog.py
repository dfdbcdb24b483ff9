from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from samantha.errors import ConfigError, NotFound
from samantha.llm import catalog
from samantha.llm.catalog import CatalogModel, Part


def test_small_model_resolves_from_its_installed_package(tmp_path: Path) -> None:
    path = catalog.resolve("smollm2-135m", tmp_path)
    assert (
        path.name.endswith(".gguf") and path.stat().st_size == catalog.CATALOG["smollm2-135m"].size
    )
    assert catalog.verify("smollm2-135m", tmp_path)


def test_unknown_and_unassembled_models_say_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"qwen2\.5-1\.5b"):
        catalog.resolve("gpt-9", tmp_path)
    with pytest.raises(NotFound, match=r"samantha models fetch qwen2\.5-0\.5b"):
        catalog.resolve("qwen2.5-0.5b", tmp_path)
    with pytest.raises(NotFound):
        catalog.resolve(str(tmp_path / "missing.gguf"), tmp_path)


@pytest.fixture
def split_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[CatalogModel, bytes]:
    """A model split across two importable 'packages', like the PyPI part packages."""
    site = tmp_path / "site"
    blobs = [b"GGUF" + bytes(range(256)) * 50, b"tail" * 1000]
    parts = []
    for i, blob in enumerate(blobs, 1):
        (site / f"fakepart{i}" / "data").mkdir(parents=True)
        (site / f"fakepart{i}" / "__init__.py").write_text("")
        (site / f"fakepart{i}" / "data" / f"part{i:02d}.bin").write_bytes(blob)
        parts.append(Part(f"fakepart{i}", "1.0", f"fakepart{i}/data/part{i:02d}.bin"))
    monkeypatch.syspath_prepend(str(site))
    whole = b"".join(blobs)
    model = CatalogModel(
        "fake-split", "test", "MIT", len(whole), hashlib.sha256(whole).hexdigest(), tuple(parts)
    )
    monkeypatch.setitem(catalog.CATALOG, model.name, model)
    return model, whole


def test_assemble_joins_parts_in_order_and_checks_sha(
    split_model: tuple[CatalogModel, bytes], tmp_path: Path
) -> None:
    model, whole = split_model
    seen: list[int] = []
    path = catalog.assemble(model.name, tmp_path / "models", lambda done, total: seen.append(done))
    assert path.read_bytes() == whole
    assert seen[-1] == len(whole)
    assert catalog.resolve(model.name, tmp_path / "models") == path
    assert catalog.verify(model.name, tmp_path / "models")
    assert list((tmp_path / "models").iterdir()) == [path]  # no scratch left behind


def test_wrong_checksum_keeps_nothing(
    split_model: tuple[CatalogModel, bytes], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model, _ = split_model
    monkeypatch.setitem(
        catalog.CATALOG,
        model.name,
        CatalogModel(model.name, "", "", model.size, "0" * 64, model.parts),
    )
    with pytest.raises(ConfigError, match="nothing was kept"):
        catalog.assemble(model.name, tmp_path / "models")
    assert list((tmp_path / "models").iterdir()) == []
