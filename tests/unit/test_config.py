import json
import os
from pathlib import Path

import pytest

from synapse_async import AsyncClient, ClientConfig, ConfigurationError, Secret, Timeout
from synapse_async.errors import InvalidInputError


def test_explicit_arguments_beat_env_and_file(tmp_path: Path) -> None:
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps({"host": "https://file.example", "access_token": "file-token"}))
    env = {"SYNAPSE_HOST": "https://env.example", "SYNAPSE_ACCESS_TOKEN": "env-token"}
    c = ClientConfig.resolve(
        "https://arg.example", access_token="arg-token", env=env, config_file=cfg
    )
    assert (c.base_url, c.access_token) == ("https://arg.example/", Secret("arg-token"))
    c = ClientConfig.resolve(env=env, config_file=cfg)
    assert (c.base_url, c.access_token) == ("https://env.example/", Secret("env-token"))
    c = ClientConfig.resolve(env={}, config_file=cfg)
    assert (c.base_url, c.access_token) == ("https://file.example/", Secret("file-token"))


def test_config_file_path_from_env(tmp_path: Path) -> None:
    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps({"access_token": "t1"}))
    c = ClientConfig.resolve(env={"SYNAPSE_CONFIG_FILE": str(cfg)})
    assert c.access_token is not None and c.access_token.reveal() == "t1"
    assert c.base_url == "https://api.synapse.sh/"


def test_missing_credentials_say_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="SYNAPSE_ACCESS_TOKEN"):
        ClientConfig.resolve(env={}, config_file=tmp_path / "none.json")


def test_bad_config_file_is_named(tmp_path: Path) -> None:
    cfg = tmp_path / "c.json"
    cfg.write_text("{not json")
    with pytest.raises(ConfigurationError, match=str(cfg)):
        ClientConfig.resolve(env={}, config_file=cfg)


def test_bad_base_url_is_named() -> None:
    with pytest.raises(ConfigurationError, match="ftp://x"):
        ClientConfig.resolve("ftp://x", access_token="t", env={})
    with pytest.raises(ConfigurationError, match="no http:// or https://"):
        ClientConfig.resolve("localhost:8000", access_token="t", env={})


def test_user_token_needs_tenant() -> None:
    with pytest.raises(ConfigurationError, match="tenant"):
        ClientConfig.resolve("https://h", user_token="u", env={})
    c = ClientConfig.resolve("https://h", user_token="u", tenant="acme", env={})
    assert c.auth_headers() == {"Authorization": "Token u", "Synapse-Tenant": "Token acme"}


def test_auth_headers_per_design() -> None:
    c = ClientConfig.resolve("https://h", access_token="a", agent_token="g", env={})
    assert c.auth_headers() == {"Synapse-Access-Token": "Token a", "SYNAPSE-Agent": "Token g"}


def test_secrets_never_in_repr() -> None:
    c = ClientConfig.resolve(
        "https://h",
        access_token="s3cr3t-access",
        user_token="s3cr3t-user",
        tenant="s3cr3t-tenant",
        agent_token="s3cr3t-agent",
        env={},
    )
    client = AsyncClient(config=c)
    for text in (repr(c), str(c), repr(client), repr(client.tasks)):
        assert "s3cr3t" not in text
    assert "'***'" in repr(c)


def test_timeout_validation_and_coercion() -> None:
    with pytest.raises(InvalidInputError, match="-1"):
        Timeout(connect=-1)
    c = ClientConfig.resolve("https://h", access_token="a", env={}, timeout=7)
    assert c.timeout.total == 7.0 and c.timeout.read == 7.0
    with pytest.raises(InvalidInputError, match="'soon'"):
        ClientConfig.resolve("https://h", access_token="a", env={}, timeout="soon")


def test_config_file_mode_is_not_required_but_read(tmp_path: Path) -> None:
    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps({"access_token": "t", "tenant": "x"}))
    os.chmod(cfg, 0o600)
    assert ClientConfig.resolve(env={}, config_file=cfg).tenant == Secret("x")
