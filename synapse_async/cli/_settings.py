"""The config file ``~/.synapse/config.json``: where it is, reading it, writing it atomically."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from synapse_async import ConfigurationError
from synapse_async.export.files import write_atomic

__all__ = [
    "CREDENTIAL_KEYS",
    "config_path",
    "read_config",
    "redact",
    "sources",
    "write_config",
]

CREDENTIAL_KEYS = ("access_token", "user_token", "tenant", "agent_token")
"""Keys of the config file whose values are secrets."""

_ENV_FOR = {
    "host": "SYNAPSE_HOST",
    "access_token": "SYNAPSE_ACCESS_TOKEN",
    "user_token": "SYNAPSE_USER_TOKEN",
    "tenant": "SYNAPSE_TENANT",
    "agent_token": "SYNAPSE_AGENT_TOKEN",
}


def config_path(env: Mapping[str, str] | None = None) -> Path:
    """``SYNAPSE_CONFIG_FILE``, else ``~/.synapse/config.json``."""
    env = os.environ if env is None else env
    return Path(env.get("SYNAPSE_CONFIG_FILE") or "~/.synapse/config.json").expanduser()


def read_config(path: Path) -> dict[str, Any]:
    """The config file's object ({} when there is no file)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise ConfigurationError(
            f"cannot read config file {path}: {exc}; fix or delete it, then run `synapse login`"
        ) from None
    if not isinstance(data, dict):
        raise ConfigurationError(f"config file {path} must hold a JSON object")
    return data


def write_config(path: Path, values: Mapping[str, Any]) -> None:
    """Write ``values`` as the config file: mode 0600 from the start, replaced atomically."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    text = json.dumps(dict(values), indent=2) + "\n"
    write_atomic(os.fspath(path), text.encode("utf-8"), durable=True, permissions=0o600)


def redact(key: str, value: Any) -> str:
    """A value fit to print: credentials as ``***`` (set) or ``-`` (not set)."""
    if key in CREDENTIAL_KEYS:
        return "***" if value else "-"
    return "-" if value in (None, "") else str(value)


def sources(env: Mapping[str, str], file_values: Mapping[str, Any]) -> dict[str, tuple[Any, str]]:
    """Each setting's effective value and where it came from (environment > file)."""
    found: dict[str, tuple[Any, str]] = {}
    for key, env_key in _ENV_FOR.items():
        if env.get(env_key):
            found[key] = (env[env_key], f"env {env_key}")
        elif file_values.get(key):
            found[key] = (file_values[key], "config file")
        else:
            found[key] = (None, "not set")
    return found
