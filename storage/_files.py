"""The database's files on disk: private folders and modes, one process per file, new files.

A SQLite file is held by one process at a time: ``hold`` takes an OS lock (``flock``) on
a sidecar ``<database>.lock`` that names the holder's PID. The record cache is per
process, so a second process on the same file could bring back a conversation the
first one erased; it is refused instead. The OS drops the lock when its holder dies,
even by ``kill -9``, so a crash never blocks the next start.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import secrets
import sqlite3
import stat
from pathlib import Path

from ._errors import CorruptDatabaseError, DatabaseInUse, StorageUnavailable

log = logging.getLogger(__name__)

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


def make_private_dirs(folder: Path) -> None:
    """Create ``folder`` and every missing folder above it, each 0o700 (``mkdir -p`` uses 0o755).

    Raises StorageUnavailable, naming the path, when a part of it is a file or cannot be made.
    """
    missing: list[Path] = []
    current = folder
    while not current.is_dir():
        if current.exists() or current.is_symlink():
            raise StorageUnavailable(
                f"cannot create the folder {folder}: {current} is a file, not a folder.")
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for part in reversed(missing):
        try:
            os.mkdir(part, PRIVATE_DIR)
        except FileExistsError:
            if not part.is_dir():
                raise StorageUnavailable(
                    f"cannot create the folder {folder}: {part} is a file, not a folder."
                ) from None
        except OSError as exc:
            raise StorageUnavailable(
                f"cannot create the folder {part}: {exc.strerror or exc}. "
                "Check that it can be created and written."
            ) from exc


def make_private(path: Path, what: str) -> None:
    """If ``path`` is open to group or others, take those rights away (chmod go-rwx) and say so.

    Fixed rather than only warned about: these files hold every conversation (or the key
    to them), and a mode like 0o644 is nearly always a copy or a umask accident.
    """
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return
    if not mode & (stat.S_IRWXG | stat.S_IRWXO):
        return
    try:
        path.chmod(mode & stat.S_IRWXU)
    except OSError as exc:
        log.warning("%s %s is open to other users (mode %o) and cannot be made private (%s): "
                    "run chmod 600 on it", what, path, mode, exc.strerror or type(exc).__name__)
    else:
        log.warning("%s %s was open to other users (mode %o); made it private (mode %o)",
                    what, path, mode, mode & stat.S_IRWXU)


def has_data(database: Path) -> bool:
    """True when the database file, or its WAL, holds any bytes."""
    return any(_size(file) > 0 for file in (database, Path(f"{database}-wal")))


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


class FileLock:
    """An exclusive ``flock`` on ``<database>.lock`` (mode 0o600) holding the holder's PID."""

    def __init__(self, fd: int, path: Path) -> None:
        self._fd: int | None = fd
        self.path = path

    @classmethod
    def hold(cls, database: Path) -> FileLock:
        """Take the lock for ``database`` or raise DatabaseInUse naming the PID that holds it."""
        lock_path = database.with_name(database.name + ".lock")
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, PRIVATE_FILE)
        except OSError as exc:
            raise StorageUnavailable(
                f"cannot create the lock file {lock_path}: {exc.strerror or exc}. "
                "Check that its folder can be written."
            ) from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = _read_pid(fd)
            os.close(fd)
            who = f"process {holder}" if holder else "another process"
            raise DatabaseInUse(
                f"{database} is in use by {who} (lock file {lock_path}): one kakekomi process "
                "per database. Stop that process first, or use another database."
            ) from None
        try:
            with contextlib.suppress(OSError):
                os.fchmod(fd, PRIVATE_FILE)
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        except OSError as exc:
            os.close(fd)
            raise StorageUnavailable(
                f"cannot write the lock file {lock_path}: {exc.strerror or exc}."
            ) from exc
        return cls(fd, lock_path)

    def release(self) -> None:
        """Clear the PID and let go (closing the descriptor drops the flock)."""
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
            os.close(fd)


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if text.isascii() and text.isdigit() else None


def prepare_database(path: Path) -> None:
    """Check the file before SQLite opens it; make a new one whole, never empty. Under the lock.

    A new database is made in a temporary file (0o600, WAL header written) and linked into
    place, so ``path`` never appears empty. An existing file of zero bytes (with no WAL)
    is therefore never one kakekomi made: it is refused, not silently taken as new.
    """
    if path.exists():
        if path.is_dir():
            raise StorageUnavailable(f"cannot use the database {path}: it is a folder, not a file.")
        if not has_data(path):
            raise CorruptDatabaseError(
                f"{path} is empty (0 bytes); kakekomi never leaves its database empty, so it was "
                "truncated or made by something else. It was left as it is: restore a backup, "
                "or delete it to start with an empty database."
            )
        for file, what in ((path, "database"), (Path(f"{path}-wal"), "database WAL"),
                           (Path(f"{path}-shm"), "database index")):
            make_private(file, what)
        return
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.new")
    try:
        os.close(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
        db = sqlite3.connect(temporary, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode = WAL")  # writes the header: the file is whole
        finally:
            db.close()
        fd = os.open(temporary, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.link(temporary, path)  # never replaces a file (the lock keeps others out anyway)
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except (OSError, sqlite3.Error) as exc:
        raise StorageUnavailable(
            f"cannot create the database {path}: {getattr(exc, 'strerror', None) or exc}. "
            "Check that the folder can be written."
        ) from exc
    finally:
        for leftover in (temporary, Path(f"{temporary}-wal"), Path(f"{temporary}-shm")):
            leftover.unlink(missing_ok=True)

