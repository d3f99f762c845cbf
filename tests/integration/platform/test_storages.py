"""Storages: list, default, get with configuration; secrets never in reprs or logs."""

from __future__ import annotations

import logging

import pytest

from synapse_async import (
    AsyncClient,
    InvalidInputError,
    NotFoundError,
    RedactedConfig,
    Storage,
    ValidationError,
)

pytestmark = pytest.mark.anyio

CONFIG = {
    "bucket_name": "media",
    "region_name": "eu-west-1",
    "access_key": "AKIA-ACCESS-123",
    "secret_key": "s3cr3t-VALUE",
    "nested": {"password": "hunter2-pw", "host": "ftp.local"},
    "tokens": [{"api_token": "tok-xyz-789"}],
}
SECRETS = ("AKIA-ACCESS-123", "s3cr3t-VALUE", "hunter2-pw", "tok-xyz-789")


async def test_storages_list_default_get(client: AsyncClient) -> None:
    with pytest.raises(NotFoundError, match="internal storage"):
        await client.storages.default()
    ext = await client.storages.create("Archive", provider="amazon_s3", configuration=CONFIG)
    assert isinstance(ext, Storage) and ext.category == "external" and ext.configuration is None
    first = await client.storages.create(
        "Local", provider="file_system", category="internal", configuration={"location": "/data"}
    )
    assert first.is_default  # the first internal storage is the default one
    second = await client.storages.create(
        "Fast",
        provider="minio",
        category="internal",
        configuration={"secret_key": "x"},
        is_default=True,
    )
    assert (await client.storages.default()).id == second.id
    assert not (await client.storages.get(first.id)).is_default
    assert [s.name async for s in client.storages.list(page_size=1)] == ["Archive", "Local", "Fast"]
    assert [s.id async for s in client.storages.list(category="internal")] == [first.id, second.id]
    assert [s.id async for s in client.storages.list(provider="amazon_s3")] == [ext.id]
    assert all([s.configuration is None async for s in client.storages.list()])
    full = await client.storages.get(ext.id, with_configuration=True)
    assert full.configuration == CONFIG and full.configuration["secret_key"] == "s3cr3t-VALUE"
    default = await client.storages.default(with_configuration=True)
    assert default.configuration == {"secret_key": "x"}


async def test_storage_secrets_are_redacted_in_reprs_and_logs(
    client: AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    made = await client.storages.create("S3", provider="amazon_s3", configuration=CONFIG)
    storage = await client.storages.get(made.id, with_configuration=True)
    logging.getLogger("test").info("storage %s / %r / %s", storage, storage, storage.configuration)
    config = storage.configuration
    assert isinstance(config, RedactedConfig)
    shown = " ".join(
        [
            repr(storage),
            str(storage),
            repr(config),
            str(config),
            repr(config.redacted()),
            caplog.text,
        ]
    )
    for secret in SECRETS:
        assert secret not in shown
    assert "media" in shown and "ftp.local" in shown and "'***'" in shown
    assert config["nested"]["password"] == "hunter2-pw"  # readable by key
    assert storage.to_dict()["configuration"]["secret_key"] == "s3cr3t-VALUE"


async def test_storages_bad_input(client: AsyncClient) -> None:
    with pytest.raises(InvalidInputError, match="provider"):
        await client.storages.create("x", provider="dropbox", configuration={})
    with pytest.raises(InvalidInputError, match="category"):
        client.storages.list(category="cloud")
    with pytest.raises(InvalidInputError, match="configuration"):
        await client.storages.create("x", provider="ftp", configuration="user:pw")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="storage_id"):
        await client.storages.get(-1)
    with pytest.raises(InvalidInputError, match="storage name"):
        await client.storages.create("", provider="ftp", configuration={})
    with pytest.raises(NotFoundError):
        await client.storages.get(77)


async def test_server_rejects_a_bad_configuration_without_echoing_it(
    client: AsyncClient,
) -> None:
    with pytest.raises(ValidationError) as info:
        await client._http.request(
            "POST",
            "storages/",
            json_body={"name": "x", "provider": "ftp", "configuration": ["pw-LEAK-1"]},
        )
    assert "pw-LEAK-1" not in str(info.value)
