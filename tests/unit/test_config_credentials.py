"""Credentials as ``Secret``, the examples' names (``api_key``, older env names, ``from_config``)
and the configuration edges: nothing secret in reprs, errors or ``attrs.asdict``."""

from __future__ import annotations

import json
from pathlib import Path

import attrs
import pytest

from synapse_async import AsyncClient, ClientConfig, ConfigurationError, Secret
from synapse_sync import Client

TOKEN = "sk_live_abcdefghijklmnopqrstuvwx"


def test_api_key_is_the_access_token() -> None:
    client = AsyncClient("http://127.0.0.1:9/", api_key=TOKEN)
    assert client.config.auth_headers() == {"Synapse-Access-Token": f"Token {TOKEN}"}
    with pytest.raises(ConfigurationError, match="once"):
        AsyncClient("http://127.0.0.1:9/", api_key=TOKEN, access_token=TOKEN)


@pytest.mark.parametrize("name", ["SYNAPSE_API_TOKEN", "cynaps_API_KEY", "CYNAPS_API_KEY"])
def test_older_env_names_give_the_token(name: str) -> None:
    c = ClientConfig.resolve("http://127.0.0.1:9/", env={name: TOKEN})
    assert c.access_token == Secret(TOKEN)


def test_canonical_env_name_wins_and_base_url_alias() -> None:
    env = {
        "SYNAPSE_ACCESS_TOKEN": "new",
        "cynaps_API_KEY": "old",
        "cynaps_BASE_URL": "http://127.0.0.1:7/",
        "cynaps_TIMEOUT": "12",
    }
    c = ClientConfig.resolve(env=env)
    assert c.access_token == Secret("new")
    assert c.base_url == "http://127.0.0.1:7/"
    assert c.timeout.total == 12.0


def test_from_config_reads_the_examples_keys(tmp_path: Path) -> None:
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps({"api_key": TOKEN, "base_url": "http://127.0.0.1:7"}))
    client = Client.from_config(cfg)
    assert type(client) is Client
    assert client.config.base_url == "http://127.0.0.1:7/"
    assert client.config.access_token == Secret(TOKEN)
    client.close()
    with pytest.raises(ConfigurationError, match="does not exist"):
        AsyncClient.from_config(tmp_path / "missing.json")
    cfg.write_text(json.dumps({"api_key": TOKEN, "colour": "red"}))
    with pytest.raises(ConfigurationError, match="colour"):
        AsyncClient.from_config(cfg)


def test_token_passed_as_url_is_not_printed() -> None:
    for kwargs in ({}, {"api_key": "another-token"}):
        with pytest.raises(ConfigurationError) as info:
            AsyncClient(TOKEN, **kwargs)  # type: ignore[arg-type]
        assert TOKEN not in str(info.value) and "access_token=" in str(info.value)
    assert "base_url" in str(info.value)


def test_password_in_url_is_redacted() -> None:
    c = ClientConfig.resolve("http://user:hunter2pw@127.0.0.1:8/", access_token=TOKEN, env={})
    assert "hunter2pw" not in repr(c) and "user:***@" in repr(c)
    assert "hunter2pw" in c.secrets()  # so the HTTP layer scrubs it from messages
    with pytest.raises(ConfigurationError) as info:
        ClientConfig.resolve("ftp://user:hunter2pw@host/", access_token=TOKEN, env={})
    assert "hunter2pw" not in str(info.value)


def test_asdict_repr_and_str_never_show_tokens() -> None:
    c = ClientConfig.resolve(
        "http://127.0.0.1:9/",
        access_token=TOKEN,
        user_token="utok1234",
        tenant="acme-tenant",
        agent_token="agent-tok-1",
        env={},
    )
    dumped = json.dumps(attrs.asdict(c), default=str)
    for text in (dumped, repr(c), str(c), f"{c.access_token}", repr(c.access_token)):
        for secret in (TOKEN, "utok1234", "acme-tenant", "agent-tok-1"):
            assert secret not in text


def test_token_whitespace_stripped_and_control_characters_refused() -> None:
    c = ClientConfig.resolve("http://127.0.0.1:9/", access_token=TOKEN + "\n", env={})
    assert c.auth_headers()["Synapse-Access-Token"] == f"Token {TOKEN}"
    with pytest.raises(ConfigurationError, match="control character") as info:
        ClientConfig.resolve("http://127.0.0.1:9/", access_token="ab\rcd", env={})
    assert "ab\rcd" not in str(info.value)


def test_unreadable_config_file_is_only_a_fallback(tmp_path: Path) -> None:
    cfg = tmp_path / "config.json"
    cfg.mkdir()  # reading it fails with an OSError, as an unreadable ~/.synapse does
    env = {"SYNAPSE_CONFIG_FILE": str(cfg)}
    c = ClientConfig.resolve("http://127.0.0.1:9/", access_token=TOKEN, env=env)
    assert c.access_token == Secret(TOKEN)
    with pytest.raises(ConfigurationError, match="cannot read"):
        ClientConfig.resolve(access_token=TOKEN, env=env)


def test_unreadable_default_file_with_explicit_url_and_token(tmp_path: Path) -> None:
    cfg = tmp_path / "not-json.json"
    cfg.write_text("{broken")
    env = {"SYNAPSE_CONFIG_FILE": str(cfg)}
    c = ClientConfig.resolve("http://127.0.0.1:9/", access_token=TOKEN, env=env)
    assert c.base_url == "http://127.0.0.1:9/"
    with pytest.raises(ConfigurationError, match="not valid JSON"):
        ClientConfig.resolve(access_token=TOKEN, env=env)


@pytest.mark.parametrize("url", ["", "   "])
def test_empty_base_url_is_an_error_not_the_production_host(url: str) -> None:
    with pytest.raises(ConfigurationError, match="empty"):
        ClientConfig.resolve(url, access_token=TOKEN, env={})


def test_port_out_of_range_fails_at_construction() -> None:
    with pytest.raises(ConfigurationError, match="port"):
        AsyncClient("http://127.0.0.1:99999/", access_token=TOKEN)
