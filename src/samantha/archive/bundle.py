"""The archive file: a ZIP holding archive.json, README.md, schema.json and PDFs: each
letter's pages (``letters/<id>.pdf``) and, from her departure, her farewell's.

Reading one is careful, because it may come from anywhere: the upload is size-checked,
names must be plain (no folders climbing out, no absolute paths), sizes declared in the
ZIP are checked before anything is unpacked, and archive.json is read with a hard cap in
case those declarations lie. Nothing is written to disk, and only archive.json is read:
the PDFs are drawn again from the letters' words, so a PDF is never opened here.
"""

from __future__ import annotations

import io
import json
import re
import struct
import zipfile
import zlib
from datetime import UTC, datetime
from typing import Any

from samantha.archive.schema import FAREWELL, SCHEMA
from samantha.errors import InputError

DATA, README, SCHEMA_FILE = "archive.json", "README.md", "schema.json"
MEMBERS = (README, DATA, SCHEMA_FILE)
PAGES = re.compile(r"letters/[1-9][0-9]{0,15}\.pdf")  # a letter's pages, by its archive id
MAX_LETTERS = 10_000
MAX_MEMBERS = len(MEMBERS) + 1 + MAX_LETTERS


def to_json(doc: Any) -> bytes:
    return (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def pack(
    doc: dict[str, Any], readme: str, made_at: float, pdfs: dict[str, bytes] | None = None
) -> bytes:
    """The archive's bytes, with ``pdfs`` (name: bytes) after the three documents; the same
    document, PDFs and time give the same bytes."""
    stamp = datetime.fromtimestamp(made_at, UTC).timetuple()[:6]
    files = {README: readme.encode("utf-8"), DATA: to_json(doc), SCHEMA_FILE: to_json(SCHEMA)}
    files |= pdfs or {}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=max(stamp, (1980, 1, 1, 0, 0, 0)))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def too_large(what: str, limit: int) -> InputError:
    return InputError(
        f"{what} is over the {limit:,}-byte limit for archives (SAMANTHA_MAX_IMPORT_BYTES)",
        code="archive_too_large",
        status=413,
    )


def not_an_archive(problem: str) -> InputError:
    return InputError(f"not a Samantha archive: {problem}", code="not_an_archive")


def unpack(data: bytes, limit: int) -> tuple[Any, list[str]]:
    """archive.json from an archive's bytes, parsed but not yet checked against the schema,
    and the names of the PDFs beside it (to be checked against it)."""
    if len(data) > limit:
        raise too_large("the archive", limit)
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise not_an_archive("the file is not a ZIP archive")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            info = _member(infos, limit)
            with archive.open(info) as member:
                raw = member.read(limit + 1)
    except (zipfile.BadZipFile, zlib.error, struct.error, EOFError, OSError, ValueError) as exc:
        raise not_an_archive(f"the ZIP is damaged ({exc})") from None
    except (RuntimeError, NotImplementedError) as exc:  # encrypted, or an unknown compression
        raise not_an_archive(f"its archive.json cannot be read ({exc})") from None
    if len(raw) > limit:
        raise too_large(DATA + " unpacked", limit)
    return _parse(raw), [i.filename for i in infos if i.filename not in MEMBERS]


def _member(infos: list[zipfile.ZipInfo], limit: int) -> zipfile.ZipInfo:
    """archive.json's entry, once every entry's name and declared size has been checked."""
    if len(infos) > MAX_MEMBERS:
        raise too_large(f"an archive with {len(infos)} files", limit)
    names = [info.filename for info in infos]
    for name in names:
        if name.startswith(("/", "\\")) or ".." in name.split("/") or "\\" in name or ":" in name:
            raise not_an_archive(f"it holds a file with an unsafe name: {name!r}")
        if name not in MEMBERS and name != FAREWELL and not PAGES.fullmatch(name):
            raise not_an_archive(
                f"it holds {name!r}; archives hold only {', '.join(MEMBERS)}, {FAREWELL}"
                " and letters/<id>.pdf"
            )
        if names.count(name) > 1:
            raise not_an_archive(f"it holds {name!r} twice")
    if sum(info.file_size for info in infos) > limit:
        raise too_large("the archive unpacked", limit)
    found = [info for info in infos if info.filename == DATA]
    if not found:
        raise not_an_archive(f"there is no {DATA} in it")
    return found[0]


def _parse(raw: bytes) -> Any:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise not_an_archive(f"{DATA} is not UTF-8 text") from None
    try:
        return json.loads(text, parse_constant=_no_constant, object_pairs_hook=_no_repeats)
    except (ValueError, RecursionError) as exc:
        raise not_an_archive(f"{DATA} is not valid JSON ({str(exc)[:200]})") from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _no_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) != len(pairs):
        repeated = next(k for k, _ in pairs if sum(1 for j, _ in pairs if j == k) > 1)
        raise ValueError(f"the field {repeated!r} appears twice in one object")
    return found
