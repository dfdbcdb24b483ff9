"""Online backups of the SQLite store: a checked copy, given its name only when whole.

The copy is made with SQLite's backup API from a read connection of its own, in one step.
Under WAL that step reads one snapshot and never blocks the writer, whereas a backup made
in many small steps starts over whenever another connection writes, and so might never
finish on a busy server. The copy goes to a hidden file beside the target, is switched out
of WAL mode so it is one self-contained file, passes ``integrity_check``, is flushed to
disk, and only then takes the target's name; on any failure the hidden file is removed.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import sqlite3
from pathlib import Path

from samantha.errors import InputError, StoreError
from samantha.store.sqlite_core import connect


def backup_database(source: Path, target: Path, *, replace: bool = False) -> None:
    """Copy the live database at ``source`` to ``target`` (see the module docstring)."""
    _check_target(target, replace)
    partial = target.with_name(f".{target.name}.{secrets.token_hex(4)}.partial")
    try:
        _copy(source, partial)
        _place(partial, target, replace)
    except (OSError, sqlite3.Error) as exc:
        raise StoreError(f"the backup failed: {exc}; nothing was written to {target}") from exc
    finally:
        partial.unlink(missing_ok=True)


def _check_target(target: Path, replace: bool) -> None:
    """Refuse a target that cannot or should not be written, before any work is done."""
    folder = target.parent
    if not folder.is_dir():
        raise InputError(
            f"cannot write {target}: the folder {folder} does not exist", code="backup_path"
        )
    if target.is_dir():
        raise InputError(
            f"{target} is a folder; give a file name for the backup", code="backup_path"
        )
    if target.exists() and not replace:
        raise InputError(
            f"{target} already exists; choose another name, or replace it on purpose (--force)",
            code="backup_exists",
            status=409,
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InputError(f"cannot write {target}: the folder is not writable", code="backup_path")


def _copy(source: Path, partial: Path) -> None:
    # the copy holds everyone's words: readable by its owner alone, like admin.token
    os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    reader = connect(source, readonly=True)
    copy = sqlite3.connect(partial, isolation_level=None)
    try:
        reader.backup(copy)  # all pages in one step: one consistent snapshot
        copy.execute("PRAGMA journal_mode = DELETE")
        problems = [str(r[0]) for r in copy.execute("PRAGMA integrity_check")]
        if problems != ["ok"]:
            raise sqlite3.DatabaseError(f"the copy failed its integrity check: {problems[0]}")
    finally:
        copy.close()
        reader.close()
    with partial.open("rb+") as handle:
        os.fsync(handle.fileno())


def _place(partial: Path, target: Path, replace: bool) -> None:
    """Give the finished copy its name; without ``replace``, never over a file that appeared
    meanwhile (a hard link fails if the name is taken, where a rename would overwrite)."""
    if replace:
        os.replace(partial, target)
    else:
        try:
            os.link(partial, target)
        except FileExistsError:
            raise InputError(
                f"{target} appeared while the backup ran; it was left as it is",
                code="backup_exists",
                status=409,
            ) from None
    with contextlib.suppress(OSError):  # make the new name durable where the OS allows it
        folder = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
