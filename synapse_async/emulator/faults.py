"""Fault injection: latency, error answers, rate limiting and request-body faults, seeded.

A :class:`Faults` value describes what to inject; the :class:`FaultInjector` holds the current
value, a ``random.Random(seed)`` and counters, and decides per request. The decision sequence
depends only on the seed and the order in which requests arrive, so sequential requests see
the same statuses run after run. ``_emulator/`` control paths are never faulted.

Body faults (a bandwidth cap per connection, a connection dropped mid-body, a flipped byte)
are drawn from a second RNG seeded from the same seed, once per request that carries a body,
and applied by the handlers that stream request bodies through :func:`body_tap` (the upload
routes). The bandwidth cap also delays JSON answers by their size.

Reply faults: a lost reply (the request is handled, then the connection is closed instead of
answering; drawn from a third RNG) and replies that lie about what the server stored (a part's
MD5 or size, the whole file's checksum at completion), applied by the upload routes through
:func:`reply_lies`, so a test can check that the client does not believe them.

The injector also gauges the API requests being handled at once (``in_flight``, and its
``peak_in_flight`` since the counters were last reset), so a test can check a concurrency cap.
"""

from __future__ import annotations

import asyncio
import hashlib
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
    "BodyFault",
    "BodyTap",
    "Decision",
    "FaultInjector",
    "Faults",
    "body_tap",
    "faults_middleware",
    "reply_lies",
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


def _methods(value: Iterable[str] | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = (value,)
    return tuple(str(m).upper() for m in value)


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _positive_or_none(
    _inst: Any, attribute: attrs.Attribute[float | None], value: float | None
) -> None:
    if value is not None and not value > 0:
        raise ValueError(f"{attribute.name} must be > 0 bytes/s or None, got {value!r}")


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
        bandwidth: bytes/s cap per connection on request bodies read by the upload routes
            and ``POST data_files/`` (and on JSON answers); ``None``: no cap.
        drop_rate: fraction of requests with a body whose connection is closed part-way
            through the body (after 10-90% of it, by the seeded RNG).
        disk_free: bytes of disk the upload files may use in all (the emulator then behaves
            as if the disk were full beyond it: 507 answers); ``None``: the real free space.
        corrupt_rate: fraction of requests with a body that get one byte flipped as it is
            received (so an upload part fails its MD5 check).
        methods: HTTP methods (e.g. ``("PUT",)``); when set, only requests with one of them
            (and matching ``paths``) are faulted. ``None``: every method.
        lost_reply_rate: fraction of (matching) requests that are handled in full (their effect
            is stored) whose reply is then lost: the connection is closed instead.
        wrong_part_md5: part PUT replies (parallel upload) name an MD5 other than the one of
            the bytes the server stored.
        wrong_part_size: part PUT replies name a size one byte short of what was stored.
        wrong_checksum: completion replies (``POST chunked_upload/{id}/``) name a checksum
            other than the stored file's.
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
    # Body faults (neutral defaults, so existing Faults(...) calls keep their meaning).
    bandwidth: float | None = attrs.field(
        default=None, converter=_optional_float, validator=_positive_or_none
    )
    drop_rate: float = attrs.field(default=0.0, converter=float, validator=_fraction)
    corrupt_rate: float = attrs.field(default=0.0, converter=float, validator=_fraction)
    # Request filter and reply faults (neutral defaults as well).
    methods: tuple[str, ...] | None = attrs.field(default=None, converter=_methods)
    lost_reply_rate: float = attrs.field(default=0.0, converter=float, validator=_fraction)
    wrong_part_md5: bool = attrs.field(default=False, validator=attrs.validators.instance_of(bool))
    wrong_part_size: bool = attrs.field(default=False, validator=attrs.validators.instance_of(bool))
    wrong_checksum: bool = attrs.field(default=False, validator=attrs.validators.instance_of(bool))
    disk_free: int | None = attrs.field(
        default=None,
        validator=attrs.validators.optional(
            attrs.validators.and_(attrs.validators.instance_of(int), attrs.validators.ge(0))
        ),
    )

    @property
    def has_body_faults(self) -> bool:
        """Whether any request-body fault is switched on."""
        return self.bandwidth is not None or self.drop_rate > 0 or self.corrupt_rate > 0

    def to_dict(self) -> dict[str, Any]:
        """The fields as a JSON-ready dict."""
        d = attrs.asdict(self)
        d["error_statuses"] = list(self.error_statuses)
        d["methods"] = None if self.methods is None else list(self.methods)
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
        methods = data.get("methods")
        if methods is not None and (
            not isinstance(methods, list) or not all(isinstance(m, str) for m in methods)
        ):
            raise ValueError("methods must be a list of strings or null")
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


@attrs.frozen
class BodyFault:
    """The body faults drawn for one request.

    Attributes:
        bandwidth: bytes/s the body may be read at (None: no cap).
        drop_after: close the connection once this many body bytes arrived (None: never).
        corrupt_at: flip the byte at this offset of the body (None: none).
    """

    bandwidth: float | None = None
    drop_after: int | None = None
    corrupt_at: int | None = None


_UNKNOWN_LENGTH = 1 << 20  # where drops/corruption land in a body of unknown length


class FaultInjector:
    """The current :class:`Faults`, a seeded RNG and counters; decides per request."""

    def __init__(self, faults: Faults | None = None) -> None:
        self._faults = Faults()
        self._rng = random.Random(0)
        self._paths: re.Pattern[str] | None = None
        self._body_rng = random.Random(0)
        self._reply_rng = random.Random(0)
        self.requests = 0
        self.injected_errors = 0
        self.injected_429 = 0
        self.dropped_connections = 0
        self.corrupted_bodies = 0
        self.lost_replies = 0
        self.wrong_replies = 0
        self.in_flight = 0
        self.peak_in_flight = 0
        self.set(faults or Faults())

    @property
    def faults(self) -> Faults:
        """The faults in force."""
        return self._faults

    def set(self, faults: Faults) -> None:
        """Replace the faults and restart the RNG from ``faults.seed`` (counters are kept)."""
        self._faults = faults
        self._rng = random.Random(faults.seed)
        self._body_rng = random.Random(f"body:{faults.seed}")
        self._reply_rng = random.Random(f"reply:{faults.seed}")
        self._paths = re.compile(faults.paths) if faults.paths is not None else None

    def reset_counters(self) -> None:
        """Zero the counters."""
        self.requests = self.injected_errors = self.injected_429 = 0
        self.dropped_connections = self.corrupted_bodies = 0
        self.lost_replies = self.wrong_replies = 0
        self.peak_in_flight = self.in_flight

    @property
    def counters(self) -> dict[str, int]:
        """``requests`` seen (non-control), ``injected_errors`` (5xx), ``injected_429``."""
        return {
            "requests": self.requests,
            "injected_errors": self.injected_errors,
            "injected_429": self.injected_429,
        }

    @property
    def body_counters(self) -> dict[str, int]:
        """Body faults applied: ``dropped_connections``, ``corrupted_bodies``."""
        return {
            "dropped_connections": self.dropped_connections,
            "corrupted_bodies": self.corrupted_bodies,
        }

    @property
    def reply_counters(self) -> dict[str, int]:
        """Reply faults applied: ``lost_replies``, ``wrong_replies`` (replies that lied)."""
        return {"lost_replies": self.lost_replies, "wrong_replies": self.wrong_replies}

    @property
    def concurrency(self) -> dict[str, int]:
        """API requests handled now (``in_flight``) and most at once (``peak_in_flight``).

        The peak counts since the counters were last reset; control paths are not counted.
        """
        return {"in_flight": self.in_flight, "peak_in_flight": self.peak_in_flight}

    def enter(self) -> None:
        """An API request starts being handled (raises the gauge, maybe its peak)."""
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)

    def leave(self) -> None:
        """An API request was answered (or abandoned)."""
        self.in_flight -= 1

    def applies_to(self, path: str, method: str | None = None) -> bool:
        """Whether faults may touch a request for ``path`` (with ``method``, when given)."""
        if path.startswith(CONTROL_PREFIX):
            return False
        methods = self._faults.methods
        if method is not None and methods is not None and method.upper() not in methods:
            return False
        return self._paths is None or self._paths.search(path) is not None

    def decide_lost_reply(self) -> bool:
        """Whether the reply to a handled request is lost (one draw per handled request)."""
        lost = self._reply_rng.random() < self._faults.lost_reply_rate
        if lost:
            self.lost_replies += 1
        return lost

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

    def decide_body(self, length: int | None) -> BodyFault | None:
        """Draw the body faults of a request whose body has ``length`` bytes (None: unknown).

        Four draws from the body RNG per call, always, so the sequence depends only on the
        seed and the order of requests. None when nothing is to be done to this body.
        """
        f = self._faults
        u_drop, u_corrupt, at_drop, at_corrupt = (self._body_rng.random() for _ in range(4))
        size = length if length else _UNKNOWN_LENGTH
        drop_after = int(size * (0.1 + 0.8 * at_drop)) if u_drop < f.drop_rate else None
        corrupt_at = min(size - 1, int(size * at_corrupt)) if u_corrupt < f.corrupt_rate else None
        if f.bandwidth is None and drop_after is None and corrupt_at is None:
            return None
        return BodyFault(bandwidth=f.bandwidth, drop_after=drop_after, corrupt_at=corrupt_at)

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


class BodyTap:
    """Applies one request's body faults to the chunks its handler reads, in order.

    ``await tap.feed(chunk)`` returns the chunk (one byte flipped if this is where corruption
    lands), after sleeping as long as the bandwidth cap requires; when the drop point is
    reached it closes the connection and raises ``ConnectionResetError``.
    """

    def __init__(
        self, request: web.Request, fault: BodyFault | None, injector: FaultInjector | None
    ) -> None:
        self._request = request
        self._fault = fault
        self._injector = injector
        self._started = asyncio.get_running_loop().time()
        self.received = 0

    async def feed(self, chunk: bytes) -> bytes:
        """Account for ``chunk`` of the body; returns it, maybe corrupted, maybe late."""
        start = self.received
        end = self.received = start + len(chunk)
        fault = self._fault
        if fault is None:
            return chunk
        if fault.drop_after is not None and end >= fault.drop_after:
            if self._injector is not None:
                self._injector.dropped_connections += 1
            if self._request.transport is not None:
                self._request.transport.close()
            raise ConnectionResetError("connection dropped mid-body (injected fault)")
        if fault.corrupt_at is not None and start <= fault.corrupt_at < end:
            flipped = bytearray(chunk)
            flipped[fault.corrupt_at - start] ^= 0xFF
            chunk = bytes(flipped)
            if self._injector is not None:
                self._injector.corrupted_bodies += 1
        await self._wait_for(end)
        return chunk

    async def pace(self, nbytes: int) -> None:
        """Account for ``nbytes`` more of the body under the bandwidth cap only.

        For handlers whose body may not be dropped or corrupted (``POST data_files/``): they
        are paced like a slow connection, nothing else.
        """
        self.received += nbytes
        await self._wait_for(self.received)

    async def _wait_for(self, end: int) -> None:
        """Sleep until a connection at the capped bandwidth would have carried ``end`` bytes."""
        fault = self._fault
        if fault is not None and fault.bandwidth is not None:
            delay = self._started + end / fault.bandwidth - asyncio.get_running_loop().time()
            if delay > 0:
                await asyncio.sleep(delay)


_RequestKey: Any = getattr(web, "RequestKey", None)  # aiohttp >= 3.12
BODY_TAP_KEY: Any = (
    _RequestKey("synapse_body_tap", BodyTap)
    if _RequestKey is not None
    else "synapse_emulator.body_tap"
)
"""Request key under which the middleware leaves the request's :class:`BodyTap`."""


def body_tap(request: web.Request) -> BodyTap:
    """The :class:`BodyTap` for ``request`` (one that changes nothing when no fault applies)."""
    tap = request.get(BODY_TAP_KEY)
    return tap if isinstance(tap, BodyTap) else BodyTap(request, None, None)


def _other_md5(md5: str) -> str:
    """An MD5 (hex) that is certainly not ``md5``: what a lying reply names instead."""
    return hashlib.md5(b"not " + md5.encode(), usedforsecurity=False).hexdigest()


def reply_lies(
    injector: FaultInjector, request: web.Request, reply: dict[str, Any]
) -> dict[str, Any]:
    """``reply`` as the faults in force make the server state it (a copy when it lies).

    Part PUT replies (keys ``n``, ``size``, ``md5``) get a wrong ``md5`` / ``size`` with
    ``wrong_part_md5`` / ``wrong_part_size``; completion replies (key ``checksum``) get a
    wrong ``checksum`` with ``wrong_checksum``. Counted in ``wrong_replies``.
    """
    if not injector.applies_to(request.path, request.method):
        return reply
    f = injector.faults
    out = dict(reply)
    if "n" in out and f.wrong_part_md5:
        out["md5"] = _other_md5(str(out["md5"]))
    if "n" in out and f.wrong_part_size:
        out["size"] = int(out["size"]) - 1
    if "checksum" in out and out["checksum"] and f.wrong_checksum:
        out["checksum"] = _other_md5(str(out["checksum"]))
    if out != reply:
        injector.wrong_replies += 1
    return out


def format_seconds(value: float) -> str:
    """Seconds for a header: ``0.05`` -> ``"0.05"``, ``1.0`` -> ``"1"``."""
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return text or "0"


def faults_middleware(injector: FaultInjector) -> Middleware:
    """The aiohttp middleware applying ``injector``: latency first, then maybe an error.

    A request that is handled and carries a body also gets its :class:`BodyTap` (body faults),
    and with a bandwidth cap its JSON answer is delayed by its size. A lost reply closes the
    connection once the request was handled. Every API request counts in the in-flight gauge.
    """

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith(CONTROL_PREFIX):
            return await handler(request)
        injector.enter()
        try:
            return await faulted(request, handler)
        finally:
            injector.leave()

    async def faulted(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not injector.applies_to(request.path, request.method):
            return await handler(request)
        decision = injector.decide()
        if decision.delay > 0:
            await asyncio.sleep(decision.delay)
        injected = injector.response_for(decision)
        if injected is not None:
            return injected
        faults = injector.faults
        if faults.has_body_faults and request.body_exists:
            fault = injector.decide_body(request.content_length)
            request[BODY_TAP_KEY] = BodyTap(request, fault, injector)
        response = await handler(request)
        if faults.lost_reply_rate > 0 and injector.decide_lost_reply():
            if request.transport is not None:
                request.transport.close()  # handled, but the client never hears of it
            return response
        body = getattr(response, "body", None)
        if faults.bandwidth is not None and isinstance(body, bytes) and body:
            await asyncio.sleep(len(body) / faults.bandwidth)
        return response

    return middleware
