"""Which URLs get the client's credentials: the base URL's origin only (scheme and host:port)."""

from __future__ import annotations

import pytest

from synapse_async.config import ClientConfig
from synapse_async.http import HTTPClient


@pytest.mark.parametrize(
    ("url", "same"),
    [
        ("https://api.example.com/tasks/", True),
        ("https://api.example.com", True),
        ("https://api.example.com?page=2", True),
        ("https://api.example.com.evil.net/tasks/", False),
        ("https://api.example.com@evil.net/tasks/", False),
        ("https://api.example.com:8443/tasks/", False),
        ("http://api.example.com/tasks/", False),
        ("https://evil.net/https://api.example.com/", False),
    ],
)
def test_same_origin(url: str, same: bool) -> None:
    http = HTTPClient(ClientConfig.resolve("https://api.example.com", access_token="t"))
    assert http._same_origin(url) is same


def test_joined_urls_are_kept_for_the_paths_used() -> None:
    http = HTTPClient(ClientConfig.resolve("https://api.example.com/", access_token="t"))
    assert http.url_for("data_files/") == "https://api.example.com/data_files/"
    assert http.url_for("data_files/") == "https://api.example.com/data_files/"
    assert http.url_for("tasks/", {"page": 2}) == "https://api.example.com/tasks/?page=2"
    assert http.url_for("https://other.net/x") == "https://other.net/x"
