"""Settings: the database URLs people write, FIRELINE_* variables, and the generated secret key."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from pydantic import ValidationError

from fireline.config import DEFAULT_DATABASE_URL, Settings, get_settings, normalise_database_url


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    """No FIRELINE_* variable or .env file of the machine running the tests leaks in."""
    for name in list(os.environ):
        if name.startswith("FIRELINE_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.mark.parametrize(
    ("written", "used"),
    [
        ("sqlite:///x", "sqlite+pysqlite:///x"),
        (
            "sqlite:////var/lib/fireline/fireline.db",
            "sqlite+pysqlite:////var/lib/fireline/fireline.db",
        ),
        ("sqlite://", "sqlite+pysqlite://"),
        ("postgres://u:p@h:5432/db", "postgresql+psycopg://u:p@h:5432/db"),
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("  postgresql://u@h/db\n", "postgresql+psycopg://u@h/db"),
        # A driver someone names on purpose is left alone.
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite+pysqlite:///x", "sqlite+pysqlite:///x"),
    ],
)
def test_a_database_url_gets_the_driver_fireline_uses(written, used):
    assert normalise_database_url(written) == used


def test_the_defaults_run_embedded_on_sqlite():
    settings = Settings()

    assert settings.database_url == normalise_database_url(DEFAULT_DATABASE_URL)
    assert settings.is_sqlite
    assert settings.session_ttl_hours == 12
    assert settings.cookie_secure is False
    assert settings.port == 8000


def test_settings_come_from_fireline_environment_variables(monkeypatch, tmp_path):
    monkeypatch.setenv("FIRELINE_DATABASE_URL", "postgres://fire@db.internal/fireline")
    monkeypatch.setenv("FIRELINE_PORT", "9090")
    monkeypatch.setenv("FIRELINE_SESSION_TTL_HOURS", "2")
    monkeypatch.setenv("FIRELINE_COOKIE_SECURE", "true")
    monkeypatch.setenv("FIRELINE_BASE_URL", "https://fireline.example.com")
    monkeypatch.setenv("FIRELINE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("FIRELINE_LOG_LEVEL", "debug")

    settings = Settings()

    assert settings.database_url == "postgresql+psycopg://fire@db.internal/fireline"
    assert not settings.is_sqlite
    assert settings.port == 9090
    assert settings.session_ttl_hours == 2
    assert settings.cookie_secure is True
    assert settings.base_url == "https://fireline.example.com"
    assert settings.data_dir == tmp_path / "data"
    assert settings.log_level == "debug"


def test_variables_without_the_prefix_are_not_settings(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://elsewhere/db")
    monkeypatch.setenv("PORT", "1234")

    settings = Settings()

    assert settings.is_sqlite
    assert settings.port == 8000


def test_a_dot_env_file_is_read_too(tmp_path):
    (tmp_path / ".env").write_text("FIRELINE_PORT=8123\nFIRELINE_WORKERS=4\n")

    settings = Settings()

    assert settings.port == 8123
    assert settings.workers == 4


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("FIRELINE_PORT", "0"),
        ("FIRELINE_PORT", "70000"),
        ("FIRELINE_PORT", "eighty"),
        ("FIRELINE_SESSION_TTL_HOURS", "0"),
        ("FIRELINE_WORKERS", "0"),
    ],
)
def test_a_nonsensical_value_stops_start_up_naming_the_setting(monkeypatch, name, value):
    monkeypatch.setenv(name, value)

    with pytest.raises(ValidationError, match=name.removeprefix("FIRELINE_").lower()):
        Settings()


def test_get_settings_reads_the_environment_once(monkeypatch):
    get_settings.cache_clear()
    try:
        monkeypatch.setenv("FIRELINE_PORT", "8001")
        first = get_settings()
        monkeypatch.setenv("FIRELINE_PORT", "8002")
        assert get_settings() is first
        assert first.port == 8001
    finally:
        get_settings.cache_clear()


def test_a_configured_secret_key_is_used_as_is(tmp_path):
    settings = Settings(secret_key="from-the-vault", data_dir=tmp_path)

    assert settings.resolved_secret_key() == "from-the-vault"
    assert not (tmp_path / "secret_key").exists()


def test_without_a_secret_key_one_is_generated_once_and_kept_private(tmp_path):
    data_dir = tmp_path / "var" / "fireline"
    settings = Settings(data_dir=data_dir)

    key = settings.resolved_secret_key()

    path = data_dir / "secret_key"
    assert path.read_text().strip() == key
    assert len(key) >= 40
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # The next start (a new Settings, as in another process) reuses it: sessions survive restarts.
    assert settings.resolved_secret_key() == key
    assert Settings(data_dir=data_dir).resolved_secret_key() == key


def test_a_generated_secret_key_is_never_readable_by_others_even_briefly(tmp_path, monkeypatch):
    """The file is created private, not created with the umask's mode and tightened afterwards."""
    modes: list[int] = []
    real_chmod = Path.chmod

    def spy_chmod(self, mode, *args, **kwargs):
        modes.append(stat.S_IMODE(self.stat().st_mode))
        return real_chmod(self, mode, *args, **kwargs)

    monkeypatch.setattr(Path, "chmod", spy_chmod)
    old_umask = os.umask(0o022)
    try:
        Settings(data_dir=tmp_path).resolved_secret_key()
    finally:
        os.umask(old_umask)

    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600
    assert all(mode & 0o077 == 0 for mode in modes), [oct(mode) for mode in modes]


def test_different_installations_get_different_keys(tmp_path):
    first = Settings(data_dir=tmp_path / "one").resolved_secret_key()
    second = Settings(data_dir=tmp_path / "two").resolved_secret_key()
    assert first != second
