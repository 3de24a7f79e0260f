"""Where data and config live, and what the config file and SMALLCRM_* variables say.

The config file is TOML in the user config dir (`SMALLCRM_CONFIG` points elsewhere). Every key
can be overridden by an environment variable `SMALLCRM_<KEY>` (upper case; dots become `_`).
"""

from __future__ import annotations

import functools
import getpass
import os
from pathlib import Path
from typing import Any

from smallcrm.errors import Invalid

APP_NAME = "smallcrm"


def data_dir() -> Path:
    env = os.environ.get("SMALLCRM_DATA_DIR")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return platformdirs.user_data_path(APP_NAME)


def config_path() -> Path:
    env = os.environ.get("SMALLCRM_CONFIG")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return platformdirs.user_config_path(APP_NAME) / "config.toml"


@functools.cache
def _config_file(path: Path) -> dict[str, Any]:
    try:
        text = path.read_bytes().decode()
    except FileNotFoundError:
        return {}  # the usual case: no TOML parser to load
    except (OSError, UnicodeDecodeError) as error:
        raise Invalid(f"cannot read config file {path}: {error}") from None
    import tomllib

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise Invalid(f"config file {path} is not valid TOML: {error}") from None


def load_config() -> dict[str, Any]:
    return _config_file(config_path())


def setting(key: str, default: Any = None) -> Any:
    """A setting by dotted key (`smtp.host`): environment first, then the config file."""
    env = os.environ.get("SMALLCRM_" + key.upper().replace(".", "_"))
    if env is not None and env != "":
        return env
    node: Any = load_config()
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return default
        node = node[part]
    return node


def database_target(explicit: str | None = None) -> str:
    """--db, else SMALLCRM_DB, else the config's `database`, else crm.db in the data dir."""
    target = explicit or os.environ.get("SMALLCRM_DB") or setting("database")
    if target:
        return str(target)
    directory = data_dir()
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    return str(directory / "crm.db")


def demo_target(explicit: str | None = None) -> str:
    """The demo's database: the one named by --db/SMALLCRM_DB, else demo.db, never crm.db."""
    target = explicit or os.environ.get("SMALLCRM_DB")
    if target:
        return target
    directory = data_dir()
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    return str(directory / "demo.db")


def current_login() -> str:
    """Who "I" am: SMALLCRM_USER, the config's `user`, else the login name."""
    name = setting("user")
    if name:
        return str(name).strip()
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "me"


def default_currency() -> str:
    return str(setting("currency", "USD")).upper()


def phone_region() -> str | None:
    region = setting("phone_region")
    return str(region).upper() if region else None
