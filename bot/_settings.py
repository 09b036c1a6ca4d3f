"""Settings: built once at start-up from options and the environment, then passed down."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Settings:
    """Everything configurable. Only `from_env` reads the environment."""

    content_root: Path = REPO_ROOT
    db_path: Path = REPO_ROOT / "data" / "kakekomi.sqlite3"
    key_file: Path = REPO_ROOT / "data" / "secret.key"
    secret: str | None = field(default=None, repr=False)
    retention: timedelta = timedelta(days=30)
    lang: str = "ja"
    now: datetime | None = None
    token: str | None = field(default=None, repr=False)
    api_base_url: str | None = None
    webhook_url: str | None = None
    webhook_port: int = 8443
    webhook_listen: str = "0.0.0.0"
    webhook_secret: str | None = field(default=None, repr=False)
    reload: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        env = os.environ if env is None else env
        data_dir = Path(env.get("KAKEKOMI_DATA", str(REPO_ROOT / "data")))
        settings = cls(
            db_path=Path(env.get("KAKEKOMI_DB", str(data_dir / "kakekomi.sqlite3"))),
            key_file=data_dir / "secret.key",
            secret=env.get("KAKEKOMI_SECRET") or None,
            retention=timedelta(days=float(env.get("KAKEKOMI_RETENTION_DAYS", "30"))),
            token=env.get("TELEGRAM_BOT_TOKEN") or None,
            api_base_url=env.get("TELEGRAM_API_BASE_URL") or None,
            webhook_url=env.get("KAKEKOMI_WEBHOOK_URL") or None,
            webhook_secret=env.get("KAKEKOMI_WEBHOOK_SECRET") or None,
        )
        for name, value in overrides.items():
            if value is not None:
                setattr(settings, name, value)
        return settings
