"""Diagnostics the SDK has no call for, done with the standard library (``synapse doctor``).

Reads the server's ``Date`` and ``Server`` headers (clock skew, server name) and asks whether
the server offers the parallel chunked-upload extension (``POST chunked_upload/``, DESIGN 5.4;
the probe upload is aborted at once by the caller). Credentials go to the base URL's origin
only, as in the SDK.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

import attrs

__all__ = ["PROBE_FILENAME", "Answer", "fetch", "parallel_upload_probe", "server_time"]

PROBE_FILENAME = "synapse-doctor-probe"
"""The file name of the probe upload (aborted immediately)."""

_TIMEOUT = 10.0


@attrs.frozen
class Answer:
    """A status, headers and decoded JSON body (None when not JSON)."""

    status: int
    headers: Mapping[str, str]
    body: Any


def fetch(
    url: str,
    *,
    method: str = "GET",
    headers: Mapping[str, str] | None = None,
    json_body: Any = None,
) -> Answer:
    """One request; an HTTP error status is an answer too (raises OSError with no answer)."""
    data = None if json_body is None else json.dumps(json_body).encode()
    hdrs = {"Accept": "application/json", **(headers or {})}
    if data is not None:
        hdrs["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, headers=hdrs, method=method)
    try:
        with urllib.request.urlopen(request, timeout=_TIMEOUT) as resp:
            return Answer(resp.status, dict(resp.headers), _json(resp.read()))
    except urllib.error.HTTPError as exc:
        return Answer(exc.code, dict(exc.headers), _json(exc.read()))


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None


def server_time(answer: Answer) -> datetime | None:
    """The answer's ``Date`` header as an aware datetime (None if absent or malformed)."""
    value = answer.headers.get("Date")
    if not value:
        return None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def parallel_upload_probe(base_url: str, auth: Mapping[str, str]) -> tuple[bool, str | None]:
    """Whether ``POST chunked_upload/`` creates a parallel upload, and its id (to abort)."""
    answer = fetch(
        base_url + "chunked_upload/",
        method="POST",
        headers=auth,
        json_body={"filename": PROBE_FILENAME, "size": 1, "part_size": 5 * 2**20},
    )
    body = answer.body if isinstance(answer.body, dict) else {}
    if answer.status in (200, 201) and body.get("parallel"):
        return True, str(body.get("id")) if body.get("id") is not None else None
    return False, None
