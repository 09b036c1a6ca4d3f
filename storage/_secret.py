"""Where the master secret comes from: the environment, or a key file made on first use."""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
from pathlib import Path

from ._errors import StorageError
from ._files import has_data, make_private, make_private_dirs


def load_secret(env_value: str | None, key_file: Path, database: Path | None = None) -> bytes:
    """The 32-byte master secret, from ``env_value`` (KAKEKOMI_SECRET) or ``key_file``.

    The text (surrounding whitespace ignored) is hashed with SHA-256, so the same text
    gives the same secret in either place (how strong a KAKEKOMI_SECRET must be is
    checked with the other settings). An empty ``env_value`` counts as unset. The key
    file is created (0o600, new folders 0o700) with a random token on first use, but
    never next to a ``database`` that already holds data: that key was lost, and a new
    one would only make the data unreadable. Keep it: without it nothing stored can be read.
    """
    text = (env_value or "").strip()
    if not text:
        text = _read_or_create(Path(key_file), None if database is None else Path(database))
    return hashlib.sha256(text.encode("utf-8")).digest()


def _read_or_create(key_file: Path, database: Path | None) -> str:
    try:
        if not key_file.exists():
            if database is not None and has_data(database):
                raise StorageError(
                    f"the database {database} exists but its key file {key_file} is missing: "
                    "restore the key file from a backup (or set KAKEKOMI_SECRET to the secret "
                    "it was written with), or move the database aside to start afresh."
                )
            _create(key_file)
        text = key_file.read_text(encoding="utf-8").strip()
        make_private(key_file, "key file")
    except OSError as exc:
        raise StorageError(
            f"cannot read or create the key file {key_file}: {exc.strerror or exc}. "
            "Check the path and its permissions, or set KAKEKOMI_SECRET."
        ) from exc
    if not text:
        raise StorageError(
            f"the key file {key_file} is empty. Restore it from a backup; "
            "deleting it makes a new secret, and data written with the old one stays unreadable."
        )
    return text


def _create(key_file: Path) -> None:
    """Write a new token atomically: a crash or a second process never sees a half file."""
    make_private_dirs(key_file.parent)
    temporary = key_file.with_name(f".{key_file.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(secrets.token_urlsafe(32) + "\n")
            out.flush()
            os.fsync(out.fileno())
        with contextlib.suppress(FileExistsError):  # another process won: use theirs
            os.link(temporary, key_file)
            _fsync_directory(key_file.parent)
    finally:
        temporary.unlink(missing_ok=True)


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
