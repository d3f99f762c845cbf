"""Chunked uploads: parallel (DESIGN 5.4) with the sequential v1 protocol (5.3) as fallback.

Modules: ``plan`` (limits, parts, file snapshot, progress; pure), ``checksums`` (MD5 in worker
threads), ``bodies`` (streamed request bodies), ``resume`` (local state, atomic writes),
``parallel`` and ``sequential`` (the two protocols), ``uploader`` (protocol choice, resume).
The public entry point is ``client.uploads.upload_file``.
"""

from synapse_async.transfer.plan import (
    DEFAULT_PART_SIZE,
    MAX_CONCURRENCY,
    MAX_PART_SIZE,
    MAX_PARTS,
    MIN_PART_SIZE,
)
from synapse_async.transfer.resume import ENV_CACHE_DIR, resolve_cache_dir
from synapse_async.transfer.uploader import Uploader

__all__ = [
    "DEFAULT_PART_SIZE",
    "ENV_CACHE_DIR",
    "MAX_CONCURRENCY",
    "MAX_PARTS",
    "MAX_PART_SIZE",
    "MIN_PART_SIZE",
    "Uploader",
    "resolve_cache_dir",
]
