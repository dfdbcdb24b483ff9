"""Who is asking: the operator's admin token and each person's bearer tokens.

The admin token is made on first run, kept in ``$SAMANTHA_HOME/admin.token`` readable by
its owner alone (0600), and printed once. Person tokens are random and stored only as
SHA-256 hashes; they are shown once, when made.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import unicodedata
from pathlib import Path

from samantha.errors import InputError
from samantha.store import Person, Store

TOKEN_PREFIX = "sam_"
MAX_NAME = 64


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def admin_token_path(home: Path) -> Path:
    return home / "admin.token"


def ensure_admin_token(home: Path) -> tuple[str, bool]:
    """The admin token and whether it was created just now (then print it, once)."""
    path = admin_token_path(home)
    home.mkdir(parents=True, exist_ok=True)
    try:
        return path.read_text("utf-8").strip(), False
    except FileNotFoundError:
        pass
    token = "adm_" + secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(token + "\n")
    return token, True


def is_admin(token: str, home: Path) -> bool:
    try:
        expected = admin_token_path(home).read_text("utf-8").strip()
    except FileNotFoundError:
        return False
    return bool(expected) and hmac.compare_digest(token.encode(), expected.encode())


def clean_name(name: str) -> str:
    """A person's name, trimmed; refuses empty, over-long and control-character names."""
    if not isinstance(name, str):
        raise InputError("name must be text")
    name = unicodedata.normalize("NFC", name).strip()
    if not name:
        raise InputError("name must not be empty", code="empty_name")
    if len(name) > MAX_NAME:
        raise InputError(f"name is over {MAX_NAME} characters", code="name_too_long")
    if any(unicodedata.category(ch).startswith("C") for ch in name):
        raise InputError("name must not contain control characters", code="bad_name")
    return name


async def add_person(store: Store, name: str) -> tuple[Person, str]:
    """Create a person and their first token; the token is returned once and never stored."""
    token = new_token()
    person = await store.create_person(clean_name(name), hash_token(token))
    return person, token


async def person_for_token(store: Store, token: str) -> Person | None:
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    return await store.person_by_token(hash_token(token))
