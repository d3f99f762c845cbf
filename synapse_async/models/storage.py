"""Storages, and the redacting mapping that keeps their secrets out of reprs and logs."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from synapse_async.models._converter import Model

__all__ = ["SECRET_KEY_MARKERS", "RedactedConfig", "Storage", "is_secret_key"]

SECRET_KEY_MARKERS = (
    "secret",
    "password",
    "passwd",
    "token",
    "access_key",
    "accesskey",
    "private_key",
    "api_key",
    "apikey",
    "credential",
    "connection_string",
    "sas",
    "auth",
)
"""A configuration key containing one of these (case-insensitive) holds a secret."""

REDACTED = "***"


def is_secret_key(key: object) -> bool:
    """Whether a configuration key names a secret (``secret_key``, ``password``, ...)."""
    text = str(key).lower().replace("-", "_")
    return any(marker in text for marker in SECRET_KEY_MARKERS)


def _redact(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: REDACTED if is_secret_key(k) else _redact(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_redact(v) for v in value]
    return value


class RedactedConfig(dict[str, Any]):
    """A plain ``dict`` whose ``repr``/``str`` show ``'***'`` for secret values.

    Reading works as usual (``config["secret_key"]`` is the real value), so code can use
    the credentials, while printing the config, the storage, or logging either with ``%r``
    or ``%s`` never reveals them. Nested mappings are redacted too.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return repr(_redact(self))

    __str__ = __repr__

    def redacted(self) -> dict[str, Any]:
        """A copy with every secret value replaced by ``'***'`` (safe to log or display)."""
        out: dict[str, Any] = _redact(self)
        return out


def _to_redacted(value: Mapping[str, Any] | None) -> RedactedConfig | None:
    return None if value is None else RedactedConfig(value)


@attrs.frozen
class Storage(Model):
    """Where the platform keeps files: an internal store or an external bucket/server.

    Attributes:
        id: the storage id.
        name: display name.
        category: ``internal`` or ``external``.
        provider: ``amazon_s3``, ``azure``, ``digital_ocean``, ``file_system``, ``ftp``,
            ``sftp``, ``minio`` or ``gcp``.
        is_default: whether new files go here by default.
        configuration: provider settings (bucket, region, credentials, ...), present only
            when fetched with ``with_configuration=True``. A :class:`RedactedConfig`: its
            secrets are readable by key but never shown by ``repr``/``str``.
        created: when it was created.
    """

    id: int
    name: str = ""
    category: str = "internal"
    provider: str = ""
    is_default: bool = False
    configuration: dict[str, Any] | None = attrs.field(default=None, converter=_to_redacted)
    created: datetime | None = None
