"""Fault injection: added latency, error answers and rate limiting, deterministic under a seed.

A :class:`Faults` value describes what to inject; the :class:`FaultInjector` holds the current
value, a ``random.Random(seed)`` and counters, and decides per request. The decision sequence
depends only on the seed and the order in which requests arrive, so sequential requests see
the same statuses run after run. ``_emulator/`` control paths are never faulted.
"""

from __future__ import annotations

import asyncio
import random
import re
from collections.abc import Iterable
from typing import Any

import attrs
from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

__all__ = [
    "CONTROL_PREFIX",
    "HTML_BAD_GATEWAY",
    "Decision",
    "FaultInjector",
    "Faults",
    "faults_middleware",
]

CONTROL_PREFIX = "/_emulator/"
"""Paths under this prefix are the emulator's own control surface, never faulted."""

HTML_BAD_GATEWAY = "<html><body><h1>502 Bad Gateway</h1></body></html>"
"""The body of an injected HTML 502 (what a proxy in front of the backend would send)."""


def _int_tuple(value: Iterable[int]) -> tuple[int, ...]:
    return tuple(value)


def _fraction(_inst: Any, attribute: attrs.Attribute[float], value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{attribute.name} must be between 0 and 1, got {value!r}")


def _non_negative(_inst: Any, attribute: attrs.Attribute[float], value: float) -> None:
    if value < 0:
        raise ValueError(f"{attribute.name} must be >= 0, got {value!r}")


def _statuses(
    _inst: Any, _attribute: attrs.Attribute[tuple[int, ...]], value: tuple[int, ...]
) -> None:
    if not value or any(not 500 <= s <= 599 for s in value):
        raise ValueError(f"error_statuses must be a non-empty tuple of 5xx codes, got {value!r}")


def _regex(_inst: Any, _attribute: attrs.Attribute[str | None], value: str | None) -> None:
    if value is not None:
        re.compile(value)  # raises re.error for an invalid pattern


@attrs.frozen
class Faults:
    """What the emulator injects. The default injects nothing.

    Attributes:
        latency: seconds added to every (matching) request before it is answered.
        error_rate: fraction of requests answered with one of ``error_statuses`` instead of
            being handled (JSON body ``{"detail": "injected fault"}``).
        error_statuses: the 5xx statuses an injected error picks from (by the seeded RNG).
        rate_limit_rate: fraction of requests answered 429 with a ``Retry-After`` header.
        retry_after: the ``Retry-After`` value in seconds (sent like ``"0.05"``).
        html_error_rate: fraction answered 502 with an HTML body (``text/html``), as a proxy
            in front of the backend would.
        seed: seeds the RNG; the same seed gives the same decision sequence.
        paths: a regular expression searched (``re.search``) in the request path, which
            starts with ``/`` (e.g. ``"^/tasks/"``); when set, only matching requests are
            faulted. ``None`` faults every API path.
    """

    latency: float = attrs.field(default=0.0, converter=float, validator=_non_negative)
    error_rate: float = attrs.field(default=0.0, converter=float, validator=_fraction)
    error_statuses: tuple[int, ...] = attrs.field(
        default=(502, 503), converter=_int_tuple, validator=_statuses
    )
    rate_limit_rate: float = attrs.field(default=0.0, converter=float, validator=_fraction)
    retry_after: float = attrs.field(default=0.05, converter=float, validator=_non_negative)
    html_error_rate: float = attrs.field(default=0.0, converter=float, validator=_fraction)
    seed: int = 0
    paths: str | None = attrs.field(default=None, validator=_regex)
    # Room for later fault kinds (not implemented yet; add them here as fields with a neutral
    # default, so existing Faults(...) calls keep their meaning):
    #   bandwidth: float | None   -- bytes/s cap per connection on request and response bodies
    #   drop_rate: float          -- fraction of connections dropped mid-body
    #   corrupt_rate: float       -- fraction of upload parts with a flipped byte

    def to_dict(self) -> dict[str, Any]:
        """The fields as a JSON-ready dict."""
        d = attrs.asdict(self)
        d["error_statuses"] = list(self.error_statuses)
        return d

    @classmethod
    def from_dict(cls, data: Any) -> Faults:
        """Build from a JSON object of field values; unknown keys are a ``ValueError``."""
        if not isinstance(data, dict):
            raise ValueError("faults must be a JSON object")
        names = {a.name for a in attrs.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ValueError(f"unknown fault fields: {', '.join(unknown)}")
        if "seed" in data and not isinstance(data["seed"], int):
            raise ValueError("seed must be an integer")
        if "paths" in data and data["paths"] is not None and not isinstance(data["paths"], str):
            raise ValueError("paths must be a string or null")
        try:
            return cls(**data)
        except (TypeError, re.error) as exc:
            raise ValueError(str(exc)) from None


@attrs.frozen
class Decision:
    """What to do with one request: the injected status (None: handle it) and the delay."""

    status: int | None
    html: bool = False
    delay: float = 0.0


class FaultInjector:
    """The current :class:`Faults`, a seeded RNG and counters; decides per request."""

    def __init__(self, faults: Faults | None = None) -> None:
        self._faults = Faults()
        self._rng = random.Random(0)
        self._paths: re.Pattern[str] | None = None
        self.requests = 0
        self.injected_errors = 0
        self.injected_429 = 0
        self.set(faults or Faults())

    @property
    def faults(self) -> Faults:
        """The faults in force."""
        return self._faults

    def set(self, faults: Faults) -> None:
        """Replace the faults and restart the RNG from ``faults.seed`` (counters are kept)."""
        self._faults = faults
        self._rng = random.Random(faults.seed)
        self._paths = re.compile(faults.paths) if faults.paths is not None else None

    def reset_counters(self) -> None:
        """Zero the counters."""
        self.requests = self.injected_errors = self.injected_429 = 0

    @property
    def counters(self) -> dict[str, int]:
        """``requests`` seen (non-control), ``injected_errors`` (5xx), ``injected_429``."""
        return {
            "requests": self.requests,
            "injected_errors": self.injected_errors,
            "injected_429": self.injected_429,
        }

    def applies_to(self, path: str) -> bool:
        """Whether faults may touch a request for ``path``."""
        if path.startswith(CONTROL_PREFIX):
            return False
        return self._paths is None or self._paths.search(path) is not None

    def decide(self) -> Decision:
        """Draw the decision for the next request (two RNG draws per request, always)."""
        f = self._faults
        self.requests += 1
        u = self._rng.random()
        pick = self._rng.randrange(len(f.error_statuses))
        if u < f.rate_limit_rate:
            self.injected_429 += 1
            return Decision(429, delay=f.latency)
        u -= f.rate_limit_rate
        if u < f.html_error_rate:
            self.injected_errors += 1
            return Decision(502, html=True, delay=f.latency)
        u -= f.html_error_rate
        if u < f.error_rate:
            self.injected_errors += 1
            return Decision(f.error_statuses[pick], delay=f.latency)
        return Decision(None, delay=f.latency)

    def response_for(self, decision: Decision) -> web.Response | None:
        """The injected response for ``decision`` (None when the request is to be handled)."""
        if decision.status is None:
            return None
        if decision.html:
            return web.Response(status=502, text=HTML_BAD_GATEWAY, content_type="text/html")
        if decision.status == 429:
            return web.json_response(
                {"detail": "Request was throttled (injected fault)."},
                status=429,
                headers={"Retry-After": format_seconds(self._faults.retry_after)},
            )
        return web.json_response({"detail": "injected fault"}, status=decision.status)


def format_seconds(value: float) -> str:
    """Seconds for a header: ``0.05`` -> ``"0.05"``, ``1.0`` -> ``"1"``."""
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return text or "0"


def faults_middleware(injector: FaultInjector) -> Middleware:
    """The aiohttp middleware applying ``injector``: latency first, then maybe an error."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not injector.applies_to(request.path):
            return await handler(request)
        decision = injector.decide()
        if decision.delay > 0:
            await asyncio.sleep(decision.delay)
        injected = injector.response_for(decision)
        if injected is not None:
            return injected
        return await handler(request)

    return middleware
