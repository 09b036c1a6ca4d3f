"""Every setting is checked at start: a bad value is refused, naming it and what is allowed.

These call ``Settings.from_env`` with a made-up environment; tests/test_startup.py runs the
real ``python -m bot`` process for the same cases (one line, exit 2, no traceback).
"""

from __future__ import annotations

import random
import string
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot._errors import SettingsError
from bot._settings import Settings, redact, secret_problem

STRONG = "kakekomi-test-secret-Qx7vR2pL9mZ4wT8n"


def settings(tmp_path: Path, **env: str) -> Settings:
    return Settings.from_env({"KAKEKOMI_DATA": str(tmp_path / "data"), **env})


def refused(tmp_path: Path, **env: str) -> str:
    with pytest.raises(SettingsError) as caught:
        settings(tmp_path, **env)
    message = str(caught.value)
    assert "\n" not in message
    return message


# -- retention ------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["0", "-1", "abc", "nan", "inf", "1e9", "", " ", "3651",
                                   "30.5", "99999999999999999999", "٣٠", "+5"])
def test_retention_that_would_erase_everything_or_crash_is_refused(tmp_path, value):
    message = refused(tmp_path, KAKEKOMI_RETENTION_DAYS=value)
    assert message.startswith("KAKEKOMI_RETENTION_DAYS")
    assert "1 to 3650" in message


@pytest.mark.parametrize("value, days", [("1", 1), ("30", 30), (" 90 ", 90), ("3650", 3650)])
def test_retention_in_range_is_taken_in_whole_days(tmp_path, value, days):
    assert settings(tmp_path, KAKEKOMI_RETENTION_DAYS=value).retention == timedelta(days=days)


def test_retention_defaults_to_thirty_days(tmp_path):
    assert settings(tmp_path).retention == timedelta(days=30)


# -- the master secret ----------------------------------------------------------------------


@pytest.mark.parametrize("weak", [
    "a", "password123", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "password123password123", "password123password123password123",
    "abcdefghijklmnopqrstuvwxyz0123456789", "0123456789012345678901234567890123",
    "correcthorsebattery", "ABABABABABABABABABABABABAB", "deadbeefdeadbeef",
    "1234567890123456789012",
])
def test_weak_master_secret_is_refused_without_showing_it(tmp_path, weak):
    message = refused(tmp_path, KAKEKOMI_SECRET=weak)
    assert message.startswith("KAKEKOMI_SECRET: too weak")
    assert len(weak) < 4 or weak not in message
    assert "secrets.token_urlsafe(32)" in message  # how to make a good one


def test_generated_secrets_of_128_bits_or_more_are_accepted(tmp_path):
    rng = random.Random(15)  # fixed: the same samples every run
    urlsafe = string.ascii_letters + string.digits + "-_"
    samples = [STRONG, "  " + STRONG + "\n"]
    for _ in range(300):
        samples.append("".join(rng.choice(urlsafe) for _ in range(22)))  # token_urlsafe(16)
        samples.append("".join(rng.choice(urlsafe) for _ in range(43)))  # token_urlsafe(32)
        samples.append("".join(rng.choice("0123456789abcdef") for _ in range(32)))  # hex(16)
        samples.append("".join(rng.choice("0123456789ABCDEF") for _ in range(64)))  # hex(32)
    rejected = [s for s in samples if secret_problem(s)]
    assert not rejected
    assert settings(tmp_path, KAKEKOMI_SECRET=STRONG).secret == STRONG


def test_blank_master_secret_means_the_key_file(tmp_path):
    assert settings(tmp_path, KAKEKOMI_SECRET="").secret is None
    assert settings(tmp_path, KAKEKOMI_SECRET="   ").secret is None


# -- folders and files ----------------------------------------------------------------------


def test_data_folder_that_is_a_file_is_named(tmp_path):
    blocker = tmp_path / "data-file"
    blocker.write_text("x")
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"KAKEKOMI_DATA": str(blocker)})
    assert str(caught.value) == f"KAKEKOMI_DATA={blocker}: is a file, not a folder"


def test_data_folder_below_a_file_is_named(tmp_path):
    blocker = tmp_path / "data-file"
    blocker.write_text("x")
    with pytest.raises(SettingsError, match=f"{blocker} is a file, not a folder"):
        Settings.from_env({"KAKEKOMI_DATA": str(blocker / "below")})


@pytest.mark.parametrize("name", ["KAKEKOMI_DATA", "KAKEKOMI_DB"])
def test_empty_paths_are_refused(tmp_path, name):
    env = {"KAKEKOMI_DATA": str(tmp_path), name: ""}
    with pytest.raises(SettingsError, match=f"^{name}: is empty"):
        Settings.from_env(env)


def test_database_that_is_a_folder_is_named(tmp_path):
    assert refused(tmp_path, KAKEKOMI_DB=str(tmp_path)) == \
        f"KAKEKOMI_DB={tmp_path}: is a folder, not a file"
    with pytest.raises(SettingsError, match="^--db="):
        Settings.from_env({"KAKEKOMI_DATA": str(tmp_path)}, db_path=tmp_path)


def test_content_root_must_be_a_folder(tmp_path):
    with pytest.raises(SettingsError, match="^--content="):
        Settings.from_env({"KAKEKOMI_DATA": str(tmp_path)}, content_root=tmp_path / "nowhere")


# -- Telegram: token, URLs, webhook -----------------------------------------------------------


@pytest.mark.parametrize("token", ["hello", "123456", ":abc", "123456:", "123456:ab c",
                                   "123456:abc\n", "abc:123456", "１２３:abc"])
def test_a_token_that_cannot_be_one_is_refused_without_showing_it(tmp_path, token):
    message = refused(tmp_path, TELEGRAM_BOT_TOKEN=token)
    assert message.startswith("TELEGRAM_BOT_TOKEN: is not a bot token")
    assert token.strip() not in message


def test_a_token_as_botfather_gives_it_is_accepted(tmp_path):
    token = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw-_"
    assert settings(tmp_path, TELEGRAM_BOT_TOKEN=token).token == token


@pytest.mark.parametrize("url", ["ftp://example.org", "http://", "https:// example.org",
                                 "example.org", "http://example.org:99999", "javascript:alert(1)",
                                 "http://exa mple.org", "https://example.org/\n"])
@pytest.mark.parametrize("name", ["TELEGRAM_API_BASE_URL", "KAKEKOMI_WEBHOOK_URL"])
def test_urls_must_be_http_with_a_host(tmp_path, name, url):
    message = refused(tmp_path, **{name: url, "KAKEKOMI_WEBHOOK_SECRET": "s3cret"})
    assert message.startswith(f"{name}: must be an http:// or https:// URL with a host")


def test_good_urls_are_accepted(tmp_path):
    s = settings(tmp_path, TELEGRAM_API_BASE_URL="http://127.0.0.1:8081",
                 KAKEKOMI_WEBHOOK_URL="https://example.org/kakekomi",
                 KAKEKOMI_WEBHOOK_SECRET="Abc_123-xyz")
    assert (s.api_base_url, s.webhook_url) == ("http://127.0.0.1:8081",
                                               "https://example.org/kakekomi")


@pytest.mark.parametrize("secret", ["has space", "x" * 257, "ümlaut", "semi;colon", "new\nline"])
def test_webhook_secret_outside_telegrams_rule_is_refused(tmp_path, secret):
    message = refused(tmp_path, KAKEKOMI_WEBHOOK_SECRET=secret)
    assert message.startswith("KAKEKOMI_WEBHOOK_SECRET: must be 1 to 256 characters")
    assert secret not in message
    with pytest.raises(SettingsError, match="^--secret-token: must be 1 to 256"):
        Settings.from_env({"KAKEKOMI_DATA": str(tmp_path)}, webhook_secret=secret)


def test_a_webhook_without_a_secret_is_refused(tmp_path):
    message = refused(tmp_path, KAKEKOMI_WEBHOOK_URL="https://example.org/kakekomi")
    assert "--secret-token" in message and "only Telegram" in message


@pytest.mark.parametrize("port", [0, -1, 65536, 10**9])
def test_ports_outside_1_to_65535_are_refused(tmp_path, port):
    with pytest.raises(SettingsError, match="^--port: must be a port number from 1 to 65535"):
        Settings.from_env({"KAKEKOMI_DATA": str(tmp_path)}, webhook_port=port)


@pytest.mark.parametrize("listen", ["", "0.0.0.0 ", "host name", "-bad", "a..b", "x" * 300])
def test_listen_address_must_be_an_address_or_host(tmp_path, listen):
    with pytest.raises(SettingsError, match="^--listen: must be an IP address"):
        Settings.from_env({"KAKEKOMI_DATA": str(tmp_path)}, webhook_listen=listen)


def test_language_and_time_are_checked(tmp_path):
    env = {"KAKEKOMI_DATA": str(tmp_path)}
    with pytest.raises(SettingsError, match="^--lang: must be one of ja, en"):
        Settings.from_env(env, lang="fr")
    with pytest.raises(SettingsError, match="^--now: needs a time zone"):
        Settings.from_env(env, now=datetime(2026, 11, 29, 2, 0))


@pytest.mark.parametrize("value, on", [("1", True), ("yes", True), ("0", False), ("", False)])
def test_debug_switch(tmp_path, value, on):
    assert settings(tmp_path, KAKEKOMI_DEBUG=value).debug is on


def test_debug_switch_refuses_other_values(tmp_path):
    assert refused(tmp_path, KAKEKOMI_DEBUG="maybe") == "KAKEKOMI_DEBUG: must be 1 (on) or 0 (off)"


def test_redact_removes_given_secrets_and_anything_shaped_like_a_token():
    text = ("url https://api.telegram.org/bot987654:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/getMe;"
            " s=hunter2")
    out = redact(text, ["hunter2"])
    assert "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw" not in out and "hunter2" not in out
    assert "[redacted" in out
