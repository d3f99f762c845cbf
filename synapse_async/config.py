"""Client settings: base URL, credentials, timeouts, retries and concurrency.

Values come from, in order of precedence: explicit arguments, environment variables
(``SYNAPSE_HOST``, ``SYNAPSE_ACCESS_TOKEN``, ``SYNAPSE_USER_TOKEN``, ``SYNAPSE_TENANT``,
``SYNAPSE_AGENT_TOKEN``), then the JSON config file ``~/.synapse/config.json`` (keys ``host``,
``access_token``, ``user_token``, ``tenant``, ``agent_token``; override the path with
``SYNAPSE_CONFIG_FILE``). Older names are accepted too (``SYNAPSE_API_TOKEN``,
``cynaps_API_KEY``; config keys ``api_key``, ``base_url``). Credentials are ``Secret`` values:
never shown by ``repr``, ``str``, ``attrs.asdict`` or in error messages.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Union
from urllib.parse import urlsplit, urlunsplit

import attrs

from synapse_async import _constants as C
from synapse_async._validation import is_number
from synapse_async.errors import ConfigurationError, InvalidInputError
from synapse_async.secret import Secret, check_credential

__all__ = ["ClientConfig", "RetryPolicy", "Secret", "Timeout", "TimeoutTypes", "redact_url"]


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
        default=C.DEFAULT_CONNECT_TIMEOUT, validator=_positive_or_none
    )
    read: float | None = attrs.field(default=C.DEFAULT_READ_TIMEOUT, validator=_positive_or_none)
    total: float | None = attrs.field(default=C.DEFAULT_TOTAL_TIMEOUT, validator=_positive_or_none)


TimeoutTypes = Union[float, Timeout]
"""A ``Timeout``, or one number applied to ``total`` with the default connect/read phases."""


def coerce_timeout(value: TimeoutTypes) -> Timeout:
    """Turn a number into a Timeout whose total (and read) is that number."""
    if isinstance(value, Timeout):
        return value
    if not is_number(value):
        raise InvalidInputError(f"timeout must be a number of seconds or a Timeout, got {value!r}")
    return Timeout(
        connect=min(C.DEFAULT_CONNECT_TIMEOUT, float(value)), read=float(value), total=float(value)
    )


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
        default=C.DEFAULT_RETRY_STATUSES, converter=frozenset
    )

    @max_retries.validator
    def _check_retries(self, _a: attrs.Attribute[int], value: int) -> None:
        if not isinstance(value, int) or value < 0:
            raise InvalidInputError(f"max_retries must be an integer >= 0, got {value!r}")


def _redacted(value: Secret | None) -> str:
    return "None" if value is None else "'***'"


def _as_secret(value: Secret | str | None, name: str) -> Secret | None:
    return None if value is None else Secret(check_credential(value, name))


def _access_token(value: Secret | str | None) -> Secret | None:
    return _as_secret(value, "access_token")


def _user_token(value: Secret | str | None) -> Secret | None:
    return _as_secret(value, "user_token")


def _tenant(value: Secret | str | None) -> Secret | None:
    return _as_secret(value, "tenant")


def _agent_token(value: Secret | str | None) -> Secret | None:
    return _as_secret(value, "agent_token")


def redact_url(url: str) -> str:
    """``url`` with the password of its user-info part (``user:pw@host``) replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def _check_base_url(_inst: object, _a: attrs.Attribute[str], value: str) -> None:
    parts = urlsplit(value)
    if "://" not in value:
        # Not shown: the usual mistake is a token passed where the URL goes.
        raise ConfigurationError(
            f"base_url must be an absolute http(s) URL such as {C.DEFAULT_BASE_URL!r}; the "
            f"value given ({len(value.rstrip('/'))} characters, not shown in case it is a "
            "credential) has no http:// or https:// in front. Was the token passed as the "
            "first argument? Use access_token=... for it"
        )
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(
            f"base_url must be an absolute http(s) URL such as {C.DEFAULT_BASE_URL!r}, "
            f"got {redact_url(value)!r}"
        )
    try:
        parts.port  # noqa: B018  (raises for a port outside 0-65535)
    except ValueError:
        raise ConfigurationError(
            f"base_url {redact_url(value)!r} has an invalid port: use 1 to 65535"
        ) from None


def _normalize_base_url(value: str) -> str:
    if not isinstance(value, str):
        raise ConfigurationError(f"base_url must be a string, got {type(value).__name__}")
    value = value.strip()
    if not value:
        raise ConfigurationError(
            f"base_url is empty: pass the API root such as {C.DEFAULT_BASE_URL!r}, or leave "
            "it out to use SYNAPSE_HOST, the config file or the default"
        )
    return value if value.endswith("/") else value + "/"


@attrs.frozen(repr=False)
class ClientConfig:
    """Resolved settings of one client. Build it with ``ClientConfig.resolve(...)``.

    Credentials are :class:`~synapse_async.secret.Secret` values (strings given here are
    wrapped, surrounding whitespace stripped): ``repr``, ``str`` and ``attrs.asdict`` show
    ``***``; a password in ``base_url`` is shown as ``***`` too.

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
    access_token: Secret | None = attrs.field(default=None, converter=_access_token)
    user_token: Secret | None = attrs.field(default=None, converter=_user_token)
    tenant: Secret | None = attrs.field(default=None, converter=_tenant)
    agent_token: Secret | None = attrs.field(default=None, converter=_agent_token)
    timeout: Timeout = attrs.field(factory=Timeout, converter=coerce_timeout)
    retry: RetryPolicy = attrs.field(factory=RetryPolicy)
    max_connections: int = C.DEFAULT_MAX_CONNECTIONS
    page_concurrency: int = C.DEFAULT_PAGE_CONCURRENCY
    verify_ssl: bool = True
    strict_decoding: bool = False

    def __repr__(self) -> str:
        return (
            f"ClientConfig(base_url={redact_url(self.base_url)!r}, "
            f"access_token={_redacted(self.access_token)}, "
            f"user_token={_redacted(self.user_token)}, tenant={_redacted(self.tenant)}, "
            f"agent_token={_redacted(self.agent_token)}, timeout={self.timeout!r}, "
            f"retry={self.retry!r}, max_connections={self.max_connections}, "
            f"page_concurrency={self.page_concurrency}, verify_ssl={self.verify_ssl})"
        )

    __str__ = __repr__

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
        access_token: str | Secret | None = None,
        user_token: str | Secret | None = None,
        tenant: str | Secret | None = None,
        agent_token: str | Secret | None = None,
        env: Mapping[str, str] | None = None,
        config_file: str | os.PathLike[str] | None = None,
        **settings: Any,
    ) -> ClientConfig:
        """Build a config from arguments > environment > config file > defaults.

        Environment: ``SYNAPSE_HOST`` (older names ``cynaps_BASE_URL``, ``CYNAPS_BASE_URL``),
        ``SYNAPSE_ACCESS_TOKEN`` (older names ``SYNAPSE_API_TOKEN``, ``cynaps_API_KEY``,
        ``CYNAPS_API_KEY``), ``SYNAPSE_USER_TOKEN``, ``SYNAPSE_TENANT``,
        ``SYNAPSE_AGENT_TOKEN``, ``SYNAPSE_TIMEOUT`` (``cynaps_TIMEOUT``; seconds).

        The config file is a fallback: it is read only when arguments and environment leave
        the URL or every credential unset (so an unreadable file does not matter when both
        are given); a missing file is no error.
        Its keys: ``host`` (or ``base_url``), ``access_token`` (or ``api_key``),
        ``user_token``, ``tenant``, ``agent_token``, ``timeout``; another key is refused.

        Raises:
            ConfigurationError: no credential found anywhere, an empty or invalid URL, a
                credential with a control character, or the config file is unreadable.
        """
        env = os.environ if env is None else env
        path = Path(config_file or env.get(C.ENV_CONFIG_FILE) or C.DEFAULT_CONFIG_FILE).expanduser()

        def from_env(*names: str) -> str | None:
            return next((env[n] for n in names if env.get(n)), None)

        values: dict[str, Any] = {
            "host": base_url if base_url is not None else from_env(C.ENV_HOST, *C.ENV_HOST_ALIASES),
            "access_token": access_token
            if access_token is not None
            else from_env(C.ENV_ACCESS_TOKEN, *C.ENV_ACCESS_TOKEN_ALIASES),
            "user_token": user_token if user_token is not None else from_env(C.ENV_USER_TOKEN),
            "tenant": tenant if tenant is not None else from_env(C.ENV_TENANT),
            "agent_token": agent_token if agent_token is not None else from_env(C.ENV_AGENT_TOKEN),
        }
        env_timeout = from_env(*C.ENV_TIMEOUT)
        has_credential = any(
            values[k] is not None for k in ("access_token", "user_token", "agent_token")
        )
        if (
            values["host"] is None
            or not has_credential
            or (values["user_token"] is not None and values["tenant"] is None)
        ):
            file_values = _read_config_file(path)
            for key, value in file_values.items():
                if key == "timeout":
                    if env_timeout is None:
                        env_timeout = value
                elif values[key] is None:
                    values[key] = value
        if "timeout" not in settings and env_timeout is not None:
            settings["timeout"] = _timeout_setting(env_timeout)
        url = values["host"] if values["host"] is not None else C.DEFAULT_BASE_URL
        if not (values["access_token"] or values["user_token"] or values["agent_token"]):
            raise ConfigurationError(
                "no credentials: pass access_token=... (or api_key=...), set "
                f'SYNAPSE_ACCESS_TOKEN, or put "access_token" in {path}'
            )
        if values["user_token"] and not values["tenant"]:
            raise ConfigurationError(
                "user_token needs a tenant: pass tenant=... or set SYNAPSE_TENANT"
            )
        return cls(
            base_url=url,
            access_token=values["access_token"],
            user_token=values["user_token"],
            tenant=values["tenant"],
            agent_token=values["agent_token"],
            **settings,
        )

    @classmethod
    def from_file(
        cls, path: str | os.PathLike[str], *, env: Mapping[str, str] | None = None
    ) -> ClientConfig:
        """A config from the JSON file at ``path``, which must exist.

        Its values count as explicit arguments: they beat the environment, which fills only
        what the file omits.
        """
        file = Path(path).expanduser()
        values = _read_config_file(file, must_exist=True)
        settings: dict[str, Any] = {}
        if "timeout" in values:
            settings["timeout"] = _timeout_setting(values.pop("timeout"))
        return cls.resolve(
            values.pop("host", None), env=env, config_file=file, **values, **settings
        )

    def auth_headers(self) -> dict[str, str]:
        """The credential headers (DESIGN 5.1), to be sent to ``origin`` only."""
        headers: dict[str, str] = {}
        if self.access_token:
            headers["Synapse-Access-Token"] = f"Token {self.access_token.reveal()}"
        if self.user_token:
            headers["Authorization"] = f"Token {self.user_token.reveal()}"
            if self.tenant:
                headers["Synapse-Tenant"] = f"Token {self.tenant.reveal()}"
        if self.agent_token:
            headers["SYNAPSE-Agent"] = f"Token {self.agent_token.reveal()}"
        return headers

    def secrets(self) -> list[str]:
        """Every credential value, for scrubbing text before it is logged or raised.

        The password of ``base_url`` (``http://user:pw@host/``) is one of them.
        """
        found = [
            s.reveal()
            for s in (self.access_token, self.user_token, self.tenant, self.agent_token)
            if s
        ]
        password = urlsplit(self.base_url).password
        if password:
            found.append(password)
        return found


def _timeout_setting(value: Any) -> float:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = -1.0
    if not seconds > 0:
        raise ConfigurationError(
            f"the timeout from the environment or config file must be a positive number of "
            f"seconds, got {value!r}"
        )
    return seconds


_FILE_KEYS = {
    "host": "host",
    "base_url": "host",
    "access_token": "access_token",
    "api_key": "access_token",
    "user_token": "user_token",
    "tenant": "tenant",
    "agent_token": "agent_token",
    "timeout": "timeout",
}


def _read_config_file(path: Path, *, must_exist: bool = False) -> dict[str, Any]:
    """The file's settings under their canonical names (``api_key`` -> ``access_token``)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if must_exist:
            raise ConfigurationError(f"config file {path} does not exist") from None
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
    unknown = sorted(str(k) for k in data if k not in _FILE_KEYS)
    if unknown:
        raise ConfigurationError(
            f"config file {path} has unknown keys {unknown}; known: {sorted(_FILE_KEYS)}"
        )
    out: dict[str, Any] = {}
    for key, value in data.items():
        if value is None:
            continue
        canonical = _FILE_KEYS[key]
        if canonical in out:
            raise ConfigurationError(
                f"config file {path} sets {canonical} twice (under two names): keep one"
            )
        out[canonical] = value if canonical == "timeout" else str(value)
    return out
