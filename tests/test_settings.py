"""Settings: defaults that run on one machine, and one clear line for a bad value."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import SettingsError, load_settings, require_token


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    for name in ("BOT_TOKEN", "DATABASE_URL", "STAFF_IDS", "TIMEZONE", "TELEGRAM_API_BASE"):
        monkeypatch.delenv(name, raising=False)


def test_defaults_run_on_sqlite():
    settings = load_settings()
    assert settings.effective_database_url == "sqlite+aiosqlite:///data/taizhang.db"
    assert settings.timezone == "Asia/Shanghai" and settings.default_locale == "zh_CN"
    assert settings.telegram_api_base == "https://api.telegram.org"


def test_values_from_environment_and_env_file(monkeypatch, tmp_path):
    (tmp_path / ".env").write_text("STAFF_IDS=11, 22\nSEND__RATE_PER_SECOND=10\n")
    monkeypatch.setenv("TELEGRAM_API_BASE", "http://127.0.0.1:8081/")
    settings = load_settings()
    assert settings.staff_ids == [11, 22]
    assert settings.send.rate_per_second == 10
    assert settings.telegram_api_base == "http://127.0.0.1:8081"


def test_the_example_env_file_copied_as_it_is_runs_on_the_defaults(tmp_path):
    example = Path(__file__).resolve().parents[1] / ".env.example"
    (tmp_path / ".env").write_text(example.read_text(encoding="utf-8"), encoding="utf-8")
    settings = load_settings()  # empty values (WEB__PORT=, HEALTH__PORT=) are the defaults
    assert settings.web.port is None and settings.health.port is None
    assert settings.effective_database_url == "sqlite+aiosqlite:///data/taizhang.db"
    assert settings.send.concurrency == 8 and settings.log.format == "text"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("STAFF_IDS", "1,two"),
        ("TIMEZONE", "Mars/Olympus"),
        ("DATABASE_URL", "mysql://x"),
        ("DEFAULT_LOCALE", "fr"),
        ("SEND__RATE_PER_SECOND", "0"),
        ("WEBHOOK__LISTEN_PORT", "70000"),
        ("TELEGRAM_API_BASE", "api.telegram.org"),
    ],
)
def test_malformed_setting_names_itself_in_one_line(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert name in message and "\n" not in message


def test_missing_token_is_named():
    with pytest.raises(SettingsError, match="BOT_TOKEN"):
        require_token(load_settings())
