"""Settings: where data and config live, the TOML config file, SMALLCRM_* overrides."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from smallcrm import settings
from smallcrm.errors import Invalid


def write_config(home: Path, text: str) -> None:
    (home / "config.toml").write_text(text, encoding="utf-8")
    settings._config_file.cache_clear()


def test_locations_come_from_the_environment(isolated_env: Path) -> None:
    assert settings.data_dir() == isolated_env / "data"
    assert settings.config_path() == isolated_env / "config.toml"


def test_default_locations_follow_platformdirs(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SMALLCRM_DATA_DIR")
    monkeypatch.delenv("SMALLCRM_CONFIG")
    monkeypatch.setenv("XDG_DATA_HOME", str(isolated_env / "xdg-data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(isolated_env / "xdg-config"))
    assert settings.data_dir() == isolated_env / "xdg-data" / "smallcrm"
    assert settings.config_path() == isolated_env / "xdg-config" / "smallcrm" / "config.toml"


def test_default_database_is_crm_db_in_a_private_data_dir(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SMALLCRM_DATA_DIR")
    monkeypatch.setenv("XDG_DATA_HOME", str(isolated_env / "xdg-data"))
    target = settings.database_target()
    assert target == str(isolated_env / "xdg-data" / "smallcrm" / "crm.db")
    directory = Path(target).parent
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700


def test_database_target_precedence(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    default = str(isolated_env / "data" / "crm.db")
    assert settings.database_target() == default
    write_config(isolated_env, 'database = "/from/config.db"\n')
    assert settings.database_target() == "/from/config.db"
    monkeypatch.setenv("SMALLCRM_DB", "/from/env.db")
    assert settings.database_target() == "/from/env.db"
    assert settings.database_target("/from/option.db") == "/from/option.db"


def test_demo_target_is_never_the_users_database(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_config(isolated_env, 'database = "/from/config.db"\n')
    demo = settings.demo_target()
    assert demo == str(isolated_env / "data" / "demo.db")
    assert stat.S_IMODE(Path(demo).parent.stat().st_mode) == 0o700
    assert settings.demo_target("/explicit.db") == "/explicit.db"
    monkeypatch.setenv("SMALLCRM_DB", "/env.db")
    assert settings.demo_target() == "/env.db"


def test_settings_read_the_config_and_the_environment_wins(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_config(
        isolated_env,
        'user = "grace"\ncurrency = "eur"\nphone_region = "gb"\n'
        '[smtp]\nhost = "mail.example.com"\nport = 2525\n',
    )
    monkeypatch.delenv("SMALLCRM_USER")
    assert settings.setting("smtp.host") == "mail.example.com"
    assert settings.setting("smtp.port") == 2525
    assert settings.setting("smtp.missing", "fallback") == "fallback"
    assert settings.setting("user.name", "x") == "x"  # user is a string, not a table
    assert settings.current_login() == "grace"
    assert settings.default_currency() == "EUR"
    assert settings.phone_region() == "GB"
    monkeypatch.setenv("SMALLCRM_SMTP_HOST", "env.example.com")
    assert settings.setting("smtp.host") == "env.example.com"
    monkeypatch.setenv("SMALLCRM_SMTP_HOST", "")  # an empty variable does not override
    assert settings.setting("smtp.host") == "mail.example.com"
    monkeypatch.setenv("SMALLCRM_USER", " ada ")
    assert settings.current_login() == "ada"


def test_defaults_without_a_config(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SMALLCRM_USER")
    monkeypatch.setenv("USER", "loginname")
    monkeypatch.setenv("LOGNAME", "loginname")
    assert settings.load_config() == {}
    assert settings.current_login() == "loginname"
    assert settings.default_currency() == "USD"
    assert settings.phone_region() is None


@pytest.mark.parametrize("text", ["user = ", "[smtp\nhost = 1", "= 3"])
def test_a_broken_config_is_a_clear_error(isolated_env: Path, text: str) -> None:
    write_config(isolated_env, text)
    with pytest.raises(Invalid, match="not valid TOML"):
        settings.load_config()


def test_an_unreadable_config_is_a_clear_error(isolated_env: Path) -> None:
    (isolated_env / "config.toml").mkdir()
    settings._config_file.cache_clear()
    with pytest.raises(Invalid, match="cannot read config"):
        settings.setting("currency")
    (isolated_env / "config.toml").rmdir()
    (isolated_env / "config.toml").write_bytes(b'user = "\xff\xfe"\n')
    settings._config_file.cache_clear()
    with pytest.raises(Invalid, match="cannot read config"):
        settings.setting("currency")
