"""Default settings, in one place (documentation tables are generated from these)."""

from __future__ import annotations

DEFAULT_BASE_URL = "https://api.synapse.sh"
DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_READ_TIMEOUT = 60.0
DEFAULT_TOTAL_TIMEOUT: float | None = None
DEFAULT_MAX_RETRIES = 5
DEFAULT_RETRY_INITIAL_DELAY = 0.25
DEFAULT_RETRY_MAX_DELAY = 8.0
DEFAULT_RETRY_AFTER_CAP = 60.0
DEFAULT_RETRY_BUDGET = 120.0
DEFAULT_RETRY_STATUSES = frozenset({429, 502, 503, 504})
DEFAULT_MAX_CONNECTIONS = 256  # room for a bulk upload's largest max_concurrency
DEFAULT_BULK_CONCURRENCY = 128
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_CONCURRENCY = 16
ENV_HOST = "SYNAPSE_HOST"
ENV_ACCESS_TOKEN = "SYNAPSE_ACCESS_TOKEN"
ENV_USER_TOKEN = "SYNAPSE_USER_TOKEN"
ENV_TENANT = "SYNAPSE_TENANT"
ENV_AGENT_TOKEN = "SYNAPSE_AGENT_TOKEN"
ENV_CONFIG_FILE = "SYNAPSE_CONFIG_FILE"
ENV_ACCESS_TOKEN_ALIASES = ("SYNAPSE_API_TOKEN", "cynaps_API_KEY", "CYNAPS_API_KEY")
"""Older names of ``SYNAPSE_ACCESS_TOKEN``, read after it in this order."""
ENV_HOST_ALIASES = ("cynaps_BASE_URL", "CYNAPS_BASE_URL")
"""Older names of ``SYNAPSE_HOST``, read after it in this order."""
ENV_TIMEOUT = ("SYNAPSE_TIMEOUT", "cynaps_TIMEOUT", "CYNAPS_TIMEOUT")
"""Default request timeout in seconds, read in this order (an argument wins)."""
DEFAULT_CONFIG_FILE = "~/.synapse/config.json"
