"""Settings: built once at start-up from options and the environment, checked, then passed down.

Every value is checked in ``Settings.from_env``; a bad one raises SettingsError naming
the setting and what is allowed (one line, and never the value of a secret).
"""

from __future__ import annotations

import ipaddress
import math
import os
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from ._errors import SettingsError

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent
CONTENT_FOLDERS = ("flows", "locales", "contacts")
# An installed wheel carries the content here (pyproject.toml maps the folders in).
PACKAGED_CONTENT = PACKAGE_DIR / "_content_data"


def _is_content_folder(folder: Path) -> bool:
    return all((folder / name).is_dir() for name in CONTENT_FOLDERS)


# A checkout (or an editable install) reads and writes next to the code; an installed
# package reads the content it ships and keeps its data in ./data of the current folder.
IN_CHECKOUT = (REPO_ROOT / "pyproject.toml").is_file() and _is_content_folder(REPO_ROOT)
DEFAULT_CONTENT = REPO_ROOT if IN_CHECKOUT else PACKAGED_CONTENT
SCHEMA_DIR = REPO_ROOT / "docs" if IN_CHECKOUT else PACKAGED_CONTENT / "schemas"


def default_data_dir() -> Path:
    return REPO_ROOT / "data" if IN_CHECKOUT else Path.cwd() / "data"


DEFAULT_LANG = "ja"  # the language of new conversations unless --lang says otherwise


def languages(content_root: Path) -> list[str]:
    """The languages a content folder has: each folder in its locales/ (the default first)."""
    folder = content_root / "locales"
    found = sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []
    return sorted(found, key=lambda lang: lang != DEFAULT_LANG)


RETENTION_DAYS_MIN = 1
RETENTION_DAYS_MAX = 3650  # ten years
SECRET_MIN_CHARS = 22
SECRET_MIN_BITS = 128
PIECE = 8  # a secret repeating, or counting through, this many characters is refused
MAKE_A_SECRET = "python -c 'import secrets;print(secrets.token_urlsafe(32))'"
WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")  # Telegram's rule for secret_token
BOT_TOKEN = re.compile(r"[0-9]{1,20}:[A-Za-z0-9_-]{1,200}")  # 123456:ABC-def… from @BotFather
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
HOSTNAME = re.compile(rf"(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*")
WEB_PATH = re.compile(r"/(?:[A-Za-z0-9._-]+/){0,8}")  # the web chat's path: "/" or "/chat/"
_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"", "0", "false", "no", "off"}

# Where each field can come from, to name it in an error: (option, environment variable).
SOURCES = {
    "content_root": ("--content", "KAKEKOMI_CONTENT"),
    "db_path": ("--db", "KAKEKOMI_DB"),
    "lang": ("--lang", None),
    "now": ("--now", None),
    "api_base_url": ("--api-base-url", "TELEGRAM_API_BASE_URL"),
    "webhook_url": ("--webhook-url", "KAKEKOMI_WEBHOOK_URL"),
    "webhook_port": ("--port", None),
    "webhook_listen": ("--listen", None),
    "webhook_secret": ("--secret-token", "KAKEKOMI_WEBHOOK_SECRET"),
    "web_host": ("--host", "KAKEKOMI_WEB_HOST"),
    "web_port": ("--port", "KAKEKOMI_WEB_PORT"),
    "web_path": ("--path", None),
    "token": (None, "TELEGRAM_BOT_TOKEN"),
    "secret": (None, "KAKEKOMI_SECRET"),
}


@dataclass
class Settings:
    """Everything configurable. Only `from_env` reads the environment (and checks values)."""

    content_root: Path = DEFAULT_CONTENT
    db_path: Path = field(default_factory=lambda: default_data_dir() / "kakekomi.sqlite3")
    key_file: Path = field(default_factory=lambda: default_data_dir() / "secret.key")
    secret: str | None = field(default=None, repr=False)
    retention: timedelta = timedelta(days=30)
    lang: str = DEFAULT_LANG
    now: datetime | None = None
    token: str | None = field(default=None, repr=False)
    api_base_url: str | None = None
    webhook_url: str | None = None
    webhook_port: int = 8443
    webhook_listen: str = "0.0.0.0"
    webhook_secret: str | None = field(default=None, repr=False)
    web_host: str = "127.0.0.1"  # kakekomi serve: the web chat (and webhook) listener
    web_port: int = 8080
    web_path: str = "/"
    reload: bool = False
    debug: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Settings from the environment, with command-line ``overrides`` (None = not given).

        Raises SettingsError for the first value that is not allowed.
        """
        env = os.environ if env is None else env
        data_dir = _data_dir(env)
        db_text = env.get("KAKEKOMI_DB")
        if db_text is not None and not db_text.strip():
            raise SettingsError("KAKEKOMI_DB", "is empty; name the database file, or unset it")
        secret = (env.get("KAKEKOMI_SECRET") or "").strip() or None  # blank = unset
        content_text = env.get("KAKEKOMI_CONTENT")
        if content_text is not None and not content_text.strip():
            raise SettingsError("KAKEKOMI_CONTENT", "is empty; name a content folder, or unset it")
        settings = cls(
            content_root=Path(content_text) if content_text else DEFAULT_CONTENT,
            db_path=Path(db_text) if db_text else data_dir / "kakekomi.sqlite3",
            key_file=data_dir / "secret.key",
            secret=secret,
            retention=_retention(env.get("KAKEKOMI_RETENTION_DAYS")),
            token=env.get("TELEGRAM_BOT_TOKEN") or None,
            api_base_url=env.get("TELEGRAM_API_BASE_URL") or None,
            webhook_url=env.get("KAKEKOMI_WEBHOOK_URL") or None,
            webhook_secret=env.get("KAKEKOMI_WEBHOOK_SECRET") or None,
            web_host=env.get("KAKEKOMI_WEB_HOST") or "127.0.0.1",
            web_port=_web_port(env.get("KAKEKOMI_WEB_PORT")),
            debug=debug_requested(env),
        )
        given: set[str] = set()
        for name, value in overrides.items():
            if value is not None:
                setattr(settings, name, value)
                given.add(name)
        settings.check(given)
        return settings

    def check(self, from_options: Collection[str] = ()) -> None:
        """Raise SettingsError for the first value that is not allowed.

        ``from_options`` names the fields given on the command line (for the error's wording).
        """

        def name(attr: str) -> str:
            option, variable = SOURCES[attr]
            return (option if attr in from_options or variable is None else variable) or attr

        if not self.content_root.is_dir():
            raise SettingsError(f"{name('content_root')}={self.content_root}",
                                "is not a folder (it should hold flows/, locales/, contacts/)")
        missing = [f"{n}/" for n in CONTENT_FOLDERS if not (self.content_root / n).is_dir()]
        if missing:
            raise SettingsError(f"{name('content_root')}={self.content_root}",
                                f"has no {', '.join(missing)} (a content folder holds flows/, "
                                "locales/ and contacts/, like the ones kakekomi ships)")
        _check_database(name("db_path"), self.db_path)
        available = languages(self.content_root)
        # No language folder at all is a content problem: loading the content says so, with
        # the pointer to `kakekomi lint`, instead of a --lang error nobody asked for.
        if available and self.lang not in available:
            raise SettingsError(name("lang"), f"must be one of {', '.join(available) or '(none)'} "
                                f"(the folders in {self.content_root / 'locales'})")
        if self.now is not None and self.now.tzinfo is None:
            raise SettingsError(name("now"), "needs a time zone, like 2026-11-29T02:00+09:00")
        if self.secret is not None:
            problem = secret_problem(self.secret)
            if problem:
                raise SettingsError(
                    name("secret"),
                    f"too weak: {problem}. It needs at least {SECRET_MIN_BITS} bits, e.g. "
                    f"{SECRET_MIN_CHARS}+ random letters and digits; "
                    f"make one with: {MAKE_A_SECRET}",
                )
        if self.token is not None and not BOT_TOKEN.fullmatch(self.token):
            raise SettingsError(
                name("token"),
                "is not a bot token: it should be digits, a colon, then letters, digits, _ or - "
                "(like 110201543:AAHdq…), exactly as @BotFather gives it",
            )
        for attr in ("api_base_url", "webhook_url"):
            value = getattr(self, attr)
            if value is not None and not _is_http_url(value):
                raise SettingsError(
                    name(attr), "must be an http:// or https:// URL with a host, "
                    "like https://example.org/kakekomi (no spaces)")
        if isinstance(self.webhook_port, bool) or not isinstance(self.webhook_port, int) \
                or not 1 <= self.webhook_port <= 65535:
            raise SettingsError(name("webhook_port"), "must be a port number from 1 to 65535")
        if not _is_host(self.webhook_listen):
            raise SettingsError(name("webhook_listen"),
                                "must be an IP address (like 0.0.0.0 or 127.0.0.1) or a host name")
        if isinstance(self.web_port, bool) or not isinstance(self.web_port, int) \
                or not 1 <= self.web_port <= 65535:
            raise SettingsError(name("web_port"), "must be a port number from 1 to 65535")
        if not _is_host(self.web_host):
            raise SettingsError(name("web_host"),
                                "must be an IP address (like 127.0.0.1 or 0.0.0.0) or a host name")
        if not WEB_PATH.fullmatch(self.web_path):
            raise SettingsError(name("web_path"), "must start and end with / and hold only "
                                "A-Z a-z 0-9 - _ . / (like / or /chat/)")
        if self.webhook_secret is not None and not WEBHOOK_SECRET.fullmatch(self.webhook_secret):
            raise SettingsError(
                name("webhook_secret"),
                "must be 1 to 256 characters, each A-Z, a-z, 0-9, _ or - (Telegram's rule)")
        if self.webhook_url is not None and self.webhook_secret is None:
            raise SettingsError(
                "--secret-token (or KAKEKOMI_WEBHOOK_SECRET)",
                "is needed with a webhook, so that only Telegram can post updates; make one "
                f"with: {MAKE_A_SECRET}")


def debug_requested(env: Mapping[str, str] | None = None) -> bool:
    """KAKEKOMI_DEBUG=1: start-up failures show a (redacted) traceback."""
    env = os.environ if env is None else env
    value = env.get("KAKEKOMI_DEBUG", "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise SettingsError("KAKEKOMI_DEBUG", "must be 1 (on) or 0 (off)")


def secret_values(*extra: str | None, env: Mapping[str, str] | None = None) -> list[str]:
    """The secrets in play (token, master secret, webhook secret), to redact from any output."""
    env = os.environ if env is None else env
    names = ("TELEGRAM_BOT_TOKEN", "KAKEKOMI_SECRET", "KAKEKOMI_WEBHOOK_SECRET")
    values = [env.get(name, "").strip() for name in names] + [(v or "").strip() for v in extra]
    return [value for value in values if value]


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every given secret, and anything shaped like a bot token, replaced."""
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "[redacted]")
    return _TOKEN_SHAPE.sub("[redacted token]", text)


_TOKEN_SHAPE = re.compile(r"\d{5,}:[A-Za-z0-9_-]{20,}")


def secret_problem(text: str) -> str | None:
    """Why ``text`` is too weak for a master secret, or None when it is strong enough.

    The rule (an estimate; a generated secret always passes): at least 22 characters;
    length × log2(size of the smallest usual alphabet holding all its characters: digits 10,
    hex 16, one-case letters 26, one-case letters and digits 36, both cases (with or without
    digits) 62, base64 64, anything else 95) of at least 128 bits; no 8 characters repeated
    (``aaaaaaaa…``, ``abcabcabc…``) and no run of 8 in sequence (``abcdefgh``, ``12345678``).
    """
    text = text.strip()
    if len(text) < SECRET_MIN_CHARS:
        return f"shorter than {SECRET_MIN_CHARS} characters"
    if len(text) * math.log2(_alphabet_size(text)) < SECRET_MIN_BITS:
        return "too short for the few kinds of characters it uses"
    pieces: set[str] = set()
    for start in range(len(text) - PIECE + 1):
        piece = text[start:start + PIECE]
        if piece in pieces:
            return "it repeats a part of itself"
        pieces.add(piece)
        steps = {ord(b) - ord(a) for a, b in zip(piece, piece[1:], strict=False)}
        if steps in ({1}, {-1}):
            return "it has a run of characters in sequence"
    return None


def _alphabet_size(text: str) -> int:
    chars = set(text)
    lower, upper, digits = chars & set("abcdefghijklmnopqrstuvwxyz"), \
        chars & set("ABCDEFGHIJKLMNOPQRSTUVWXYZ"), chars & set("0123456789")
    rest = chars - lower - upper - digits
    if rest and not rest <= set("-_+/="):
        return 95
    if rest:
        return 64
    if not lower and not upper:
        return 10
    if (lower <= set("abcdef") and not upper) or (upper <= set("ABCDEF") and not lower):
        return 16
    if lower and upper:  # mixed case: taken as drawn from letters and digits
        return 62
    return 36 if digits else 26


def _data_dir(env: Mapping[str, str]) -> Path:
    text = env.get("KAKEKOMI_DATA")
    if text is None:
        return default_data_dir()
    if not text.strip():
        raise SettingsError("KAKEKOMI_DATA", "is empty; name a folder, or unset it")
    folder = Path(text)
    if folder.exists() and not folder.is_dir():
        raise SettingsError(f"KAKEKOMI_DATA={text}", "is a file, not a folder")
    _check_parents(f"KAKEKOMI_DATA={text}", folder)
    return folder


def _check_database(label: str, path: Path) -> None:
    if path.is_dir():
        raise SettingsError(f"{label}={path}", "is a folder, not a file")
    _check_parents(f"{label}={path}", path.parent)


def _check_parents(label: str, folder: Path) -> None:
    for parent in (folder, *folder.parents):
        if parent.exists():
            if not parent.is_dir():
                raise SettingsError(label, f"{parent} is a file, not a folder")
            return


def _retention(text: str | None) -> timedelta:
    if text is None:
        return timedelta(days=30)
    value = text.strip()
    allowed = f"must be a whole number of days from {RETENTION_DAYS_MIN} to {RETENTION_DAYS_MAX}"
    if not (value.isascii() and value.isdigit()) or len(value) > 5:
        raise SettingsError(f"KAKEKOMI_RETENTION_DAYS={text[:20]!r}", allowed)
    days = int(value)
    if not RETENTION_DAYS_MIN <= days <= RETENTION_DAYS_MAX:
        raise SettingsError(f"KAKEKOMI_RETENTION_DAYS={days}", allowed)
    return timedelta(days=days)


def _web_port(text: str | None) -> int:
    if text is None or not text.strip():
        return 8080
    value = text.strip()
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value[:6]) <= 65535:
        raise SettingsError("KAKEKOMI_WEB_PORT", "must be a port number from 1 to 65535")
    return int(value)


def _is_http_url(value: str) -> bool:
    if any(ch.isspace() or not ch.isprintable() for ch in value):
        return False
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _is_host(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
        return True
    except ValueError:
        return bool(HOSTNAME.fullmatch(value))
