"""Writing files so that a failure never leaves half of one behind."""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import unicodedata
from pathlib import Path

from samantha.errors import InputError


def write_atomically(path: Path, data: bytes, *, force: bool = False) -> None:
    """Write ``data`` to a temporary file beside ``path``, then rename it into place.

    Refuses to replace an existing file unless ``force``; a missing or unwritable folder
    is an input error that names the path.
    """
    if path.exists() and not force:
        raise InputError(f"{path} already exists; choose another name or use --force")
    if path.is_dir():
        raise InputError(f"{path} is a folder")
    try:
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise InputError(f"cannot write {path}: {exc.strerror}") from None


def safe_name(name: str) -> str:
    """A person's name as a file name any file system takes: lower-case ASCII and dashes."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-") or "person"
