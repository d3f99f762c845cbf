"""Client settings: base URL, credentials, timeouts, retries and concurrency.

Values come from, in order of precedence: explicit arguments, environment variables
(``SYNAPSE_HOST``, ``SYNAPSE_ACCESS_TOKEN``, ``SYNAPSE_USER_TOKEN``, ``SYNAPSE_TENANT``,
``SYNAPSE_AGENT_TOKEN``), then the JSON config file ``~/.synapse/config.json`` (keys ``host``,
``access_token``, ``user_token``, ``tenant``, ``agent_token``; override the path with
``SYNAPSE_CONFIG_FILE``). Credentials are never shown by ``repr`` or in error messages.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Union
from urllib.parse import urlsplit

import attrs

from synapse_async import _constants as C
from synapse_async._validation import has_control_chars
from synapse_async.errors import ConfigurationError, InvalidInputError

__all__ = ["ClientConfig", "RetryPolicy", "Timeout", "TimeoutTypes"]


def _positive_or_none(_inst: object, attribute: attrs.Attribute[Any], value: float | None) -> None:
    if value is not None and not value > 0:
        raise InvalidInputError(
            f"{attribute.name} must be a positive number of seconds or None, got {value!r}"
        )


@attrs.frozen
class Timeout:
    """Timeouts in seconds, by phase; None disables a phase.

    Attributes:
        connect: to open a connection (TCP + TLS).
        read: the longest pause between two reads of the response.
        total: the whole request, body included (None: no limit; uploads rely on ``read``).
    """

    connect: float | None = attrs.field(
        default=C.DEFAULT_CONNECT_TIMEOUT, validator=_positive_or_none)
    read: float | None = attrs.field(default=C.DEFAULT_READ_TIMEOUT, validator=_positive_or_none)
    total: float | None = attrs.field(
        default=C.DEFAULT_TOTAL_TIMEOUT, validator=_positive_or_none)


TimeoutTypes = Union[float, Timeout]
"""A ``Timeout``, or one number applied to ``total`` with the default connect/read phases."""


def coerce_timeout(value: TimeoutTypes) -> Timeout:
    """Turn a number into a Timeout whose total (and read) is that number."""
    if isinstance(value, Timeout):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidInputError(f"timeout must be a number of seconds or a Timeout, got {value!r}")
    return Timeout(connect=min(C.DEFAULT_CONNECT_TIMEOUT, float(value)), read=float(value),
                   total=float(value))


@attrs.frozen
class RetryPolicy:
    """When and how long to retry.

    Retried: connection errors, timeouts, and the statuses in ``retry_statuses``; POST only
    when it carries an ``Idempotency-Key`` (the SDK adds one to every POST it may retry).
    Waits use exponential backoff with full jitter; a ``Retry-After`` header is honoured up to
    ``retry_after_cap``. ``budget`` caps the total time spent on one call, retries included.

    Attributes:
        max_retries: retries after the first attempt (0 disables retries).
        initial_delay: the first backoff ceiling, doubled each retry up to ``max_delay``.
        max_delay: the largest backoff ceiling.
        retry_after_cap: the longest ``Retry-After`` honoured.
        budget: total seconds for one call including all retries.
        retry_statuses: the HTTP statuses that are retried.
    """

    max_retries: int = attrs.field(default=C.DEFAULT_MAX_RETRIES)
    initial_delay: float = C.DEFAULT_RETRY_INITIAL_DELAY
    max_delay: float = C.DEFAULT_RETRY_MAX_DELAY
    retry_after_cap: float = C.DEFAULT_RETRY_AFTER_CAP
    budget: float = C.DEFAULT_RETRY_BUDGET
    retry_statuses: frozenset[int] = attrs.field(
        default=C.DEFAULT_RETRY_STATUSES, converter=frozenset)

    @max_retries.validator
    def _check_retries(self, _a: attrs.Attribute[int], value: int) -> None:
        if not isinstance(value, int) or value < 0:
            raise InvalidInputError(f"max_retries must be an integer >= 0, got {value!r}")


def _strip(value: str | None) -> str | None:
    """A credential without surrounding whitespace (``open(f).read()`` keeps the newline)."""
    return value.strip() if isinstance(value, str) else value


def _check_credential(_inst: object, attribute: attrs.Attribute[str | None],
                      value: str | None) -> None:
    if value is None:
        return
    if not isinstance(value, str) or has_control_chars(value):
        raise ConfigurationError(
            f"{attribute.name} must be a string without control characters (newline, tab, "
            "...); check where it was read from")


def _redacted(value: str | None) -> str:
    return "None" if value is None else "'***'"


def _check_base_url(_inst: object, _a: attrs.Attribute[str], value: str) -> None:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigurationError(
            f"base_url must be an absolute http(s) URL such as {C.DEFAULT_BASE_URL!r}, "
            f"got {value!r}"
        )


def _normalize_base_url(value: str) -> str:
    value = str(value).strip()
    return value if value.endswith("/") else value + "/"


@attrs.frozen(repr=False)
class ClientConfig:
    """Resolved settings of one client. Build it with ``ClientConfig.resolve(...)``.

    Attributes:
        base_url: the API root; request paths are joined to it (always ends with ``/``).
        access_token: sent as ``Synapse-Access-Token: Token <access_token>``.
        user_token: sent as ``Authorization: Token <user_token>`` with ``tenant``.
        tenant: sent as ``Synapse-Tenant: Token <tenant>``.
        agent_token: sent as ``SYNAPSE-Agent: Token <agent_token>``.
        timeout: default timeouts per request.
        retry: the retry policy.
        max_connections: connection-pool size.
        page_concurrency: pages fetched at once by listings.
        verify_ssl: verify TLS certificates (on by default; turn off only for a local test server).
        strict_decoding: reject unknown fields in server answers (for tests of the SDK itself).
    """

    base_url: str = attrs.field(converter=_normalize_base_url, validator=_check_base_url)
    access_token: str | None = attrs.field(
        default=None, converter=_strip, validator=_check_credential)
    user_token: str | None = attrs.field(
        default=None, converter=_strip, validator=_check_credential)
    tenant: str | None = attrs.field(default=None, converter=_strip, validator=_check_credential)
    agent_token: str | None = attrs.field(
        default=None, converter=_strip, validator=_check_credential)
    timeout: Timeout = attrs.field(factory=Timeout, converter=coerce_timeout)
    retry: RetryPolicy = attrs.field(factory=RetryPolicy)
    max_connections: int = C.DEFAULT_MAX_CONNECTIONS
    page_concurrency: int = C.DEFAULT_PAGE_CONCURRENCY
    verify_ssl: bool = True
    strict_decoding: bool = False

    def __repr__(self) -> str:
        return (
            f"ClientConfig(base_url={self.base_url!r}, "
            f"access_token={_redacted(self.access_token)}, "
            f"user_token={_redacted(self.user_token)}, tenant={_redacted(self.tenant)}, "
            f"agent_token={_redacted(self.agent_token)}, timeout={self.timeout!r}, "
            f"retry={self.retry!r}, max_connections={self.max_connections}, "
            f"page_concurrency={self.page_concurrency}, verify_ssl={self.verify_ssl})"
        )

    @property
    def origin(self) -> tuple[str, str]:
        """The (scheme, host:port) that credentials may be sent to."""
        parts = urlsplit(self.base_url)
        return parts.scheme, parts.netloc

    @classmethod
    def resolve(
        cls,
        base_url: str | None = None,
        *,
        access_token: str | None = None,
        user_token: str | None = None,
        tenant: str | None = None,
        agent_token: str | None = None,
        env: Mapping[str, str] | None = None,
        config_file: str | os.PathLike[str] | None = None,
        **settings: Any,
    ) -> ClientConfig:
        """Build a config from arguments > environment > config file > defaults.

        Raises:
            ConfigurationError: no credential found anywhere, or the config file is unreadable.
        """
        env = os.environ if env is None else env
        path = Path(config_file or env.get(C.ENV_CONFIG_FILE) or C.DEFAULT_CONFIG_FILE).expanduser()
        file_values = _read_config_file(path)

        def pick(arg: str | None, env_key: str, file_key: str) -> str | None:
            if arg is not None:
                return arg
            if env.get(env_key):
                return env[env_key]
            value = file_values.get(file_key)
            return str(value) if value is not None else None

        url = pick(base_url, C.ENV_HOST, "host") or C.DEFAULT_BASE_URL
        access = pick(access_token, C.ENV_ACCESS_TOKEN, "access_token")
        user = pick(user_token, C.ENV_USER_TOKEN, "user_token")
        ten = pick(tenant, C.ENV_TENANT, "tenant")
        agent = pick(agent_token, C.ENV_AGENT_TOKEN, "agent_token")
        if not (access or user or agent):
            raise ConfigurationError(
                "no credentials: pass access_token=..., set SYNAPSE_ACCESS_TOKEN, or put "
                f"\"access_token\" in {path}"
            )
        if user and not ten:
            raise ConfigurationError(
                "user_token needs a tenant: pass tenant=... or set SYNAPSE_TENANT"
            )
        return cls(
            base_url=url, access_token=access, user_token=user, tenant=ten, agent_token=agent,
            **settings,
        )

    def auth_headers(self) -> dict[str, str]:
        """The credential headers (DESIGN 5.1), to be sent to ``origin`` only."""
        headers: dict[str, str] = {}
        if self.access_token:
            headers["Synapse-Access-Token"] = f"Token {self.access_token}"
        if self.user_token:
            headers["Authorization"] = f"Token {self.user_token}"
            if self.tenant:
                headers["Synapse-Tenant"] = f"Token {self.tenant}"
        if self.agent_token:
            headers["SYNAPSE-Agent"] = f"Token {self.agent_token}"
        return headers

    def secrets(self) -> list[str]:
        """Every credential value, for scrubbing text before it is logged or raised."""
        return [s for s in (self.access_token, self.user_token, self.tenant, self.agent_token) if s]


def _read_config_file(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigurationError(f"cannot read config file {path}: {exc.strerror}") from None
    try:
        data = json.loads(text)
    except ValueError:
        raise ConfigurationError(
            f"config file {path} is not valid JSON; expected an object such as "
            '{"host": "https://api.synapse.sh", "access_token": "..."}'
        ) from None
    if not isinstance(data, dict):
        raise ConfigurationError(f"config file {path} must hold a JSON object")
    return data
