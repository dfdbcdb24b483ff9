"""Reading an archive file that may come from anywhere: refuse what is not one, safely."""

from __future__ import annotations

import io
import json
import random
import struct
import zipfile

import pytest

from samantha.archive import read_archive
from samantha.archive.bundle import MAX_MEMBERS, pack
from samantha.errors import InputError
from tests.archive.test_schema import example

LIMIT = 64 * 1024
CODES = {"not_an_archive", "archive_too_large", "unsupported_archive", "invalid_archive"}


def zipped(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            z.writestr(name, data)
    return buffer.getvalue()


def good() -> bytes:
    return json.dumps(example()).encode()


def lying_about_size(data: bytes) -> bytes:
    """A ZIP whose headers declare archive.json far smaller than it unpacks to."""
    out = bytearray(zipped({"archive.json": data}))
    local, central = out.find(b"PK\x03\x04"), out.find(b"PK\x01\x02")
    out[local + 22 : local + 26] = struct.pack("<I", 100)
    out[central + 24 : central + 28] = struct.pack("<I", 100)
    return bytes(out)


def test_a_packed_archive_reads_back() -> None:
    pdfs = {"letters/1.pdf": b"%PDF-1.4 never read", "farewell.pdf": b"%PDF-1.4"}
    data = read_archive(pack(example(), "# Theo\n", 1772478000.0, pdfs), LIMIT)
    assert data.person.name == "Theo" and [m.id for m in data.messages] == [1, 2]
    assert [(x.recipient, x.text[:9]) for x in data.letters] == [("Ada", "Dear Ada,")]
    assert read_archive(zipped({"archive.json": good()}), LIMIT).memories[0].source_ids == (1,)


@pytest.mark.parametrize(
    "archive,code,message",
    [
        (b"name,said\ntheo,hi\n", "not_an_archive", "not a ZIP archive"),
        (zipped({"README.md": b"# hi"}), "not_an_archive", "no archive.json in it"),
        (zipped({"../archive.json": good()}), "not_an_archive", "unsafe name: '../archive.json'"),
        (zipped({"/etc/archive.json": good()}), "not_an_archive", "unsafe name"),
        (zipped({"..\\archive.json": good()}), "not_an_archive", "unsafe name"),
        (zipped({"archive.json": good(), "run.sh": b"rm -rf"}), "not_an_archive", "'run.sh'"),
        (zipped({"archive.json": b"\xff\xfe{}"}), "not_an_archive", "not UTF-8"),
        (zipped({"archive.json": b"{not json"}), "not_an_archive", "not valid JSON"),
        (zipped({"archive.json": b'{"version": NaN}'}), "not_an_archive", "NaN is not a number"),
        (zipped({"archive.json": b'{"a": 1, "a": 2}'}), "not_an_archive", "'a' appears twice"),
        (zipped({"archive.json": b"[" * 30_000}), "not_an_archive", "not valid JSON"),
        (zipped({"archive.json": b"[]"}), "unsupported_archive", "not a Samantha archive"),
        (zipped({"archive.json": b" " * (LIMIT + 1)}), "archive_too_large", "unpacked is over"),
        (b"PK" + b"\0" * LIMIT, "archive_too_large", "the archive is over the 65,536-byte"),
        (lying_about_size(b" " * (LIMIT * 4)), "not_an_archive", "damaged"),
        (zipped({"archive.json": good(), "letters/x.pdf": b""}), "not_an_archive", "x.pdf"),
        (zipped({"archive.json": good(), "letters/9.pdf": b""}), "not_an_archive", "nothing"),
    ],
)
def test_a_bad_archive_file_is_refused_clearly(archive: bytes, code: str, message: str) -> None:
    with pytest.raises(InputError) as refused:
        read_archive(archive, LIMIT)
    assert refused.value.code == code
    assert message in str(refused.value)


def test_an_archive_of_too_many_files_is_refused_before_any_is_read() -> None:
    many = zipped({f"letters/{i}.pdf": b"" for i in range(1, MAX_MEMBERS + 2)})
    with pytest.raises(InputError, match=f"with {MAX_MEMBERS + 1} files") as refused:
        read_archive(many, 64 * LIMIT)
    assert refused.value.code == "archive_too_large"


def test_a_zip_bomb_is_refused_by_its_declared_size_before_unpacking() -> None:
    bomb = zipped({"archive.json": b"0" * (50 * 1024 * 1024)})
    assert len(bomb) < LIMIT
    with pytest.raises(InputError, match="unpacked is over") as refused:
        read_archive(bomb, LIMIT)
    assert refused.value.status == 413


def test_damaged_archives_are_refused_never_crash() -> None:
    good = pack(example(), "# Theo\n", 1772478000.0)
    rng = random.Random(8316)
    for _ in range(400):
        damaged = bytearray(good)
        at = rng.randrange(len(damaged))
        if rng.random() < 0.5:
            damaged[at] = rng.randrange(256)
        else:
            del damaged[at : at + rng.randint(1, 40)]
        try:
            read_archive(bytes(damaged), LIMIT)
        except InputError as refused:
            assert refused.code in CODES
