"""Deterministic train/val/test assignment by a seeded hash of each record's id."""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping

from synapse_async._validation import is_number

__all__ = ["DEFAULT_SPLIT", "SplitPlan", "normalize_split"]

DEFAULT_SPLIT: Mapping[str, float] = {"train": 0.8, "val": 0.1, "test": 0.1}
"""The ratio the small-export helpers use for YOLO (the seeds' data.yaml names all three)."""

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


def normalize_split(split: Mapping[str, float] | None) -> dict[str, float] | None:
    """Validate split ratios and scale them to sum to 1 (order kept); None passes through.

    Names become directory and file names, so they must match ``[A-Za-z0-9][A-Za-z0-9_-]*``.
    Ratios must be finite and >= 0 with a positive sum.
    """
    if split is None:
        return None
    if not split:
        raise ValueError("split must name at least one split")
    total = 0.0
    for name, ratio in split.items():
        if not isinstance(name, str) or not _NAME.match(name):
            raise ValueError(f"invalid split name {name!r}")
        if not is_number(ratio) or not math.isfinite(ratio) or ratio < 0:
            raise ValueError(f"invalid ratio for split {name!r}: {ratio!r}")
        total += ratio
    if total <= 0:
        raise ValueError("split ratios must have a positive sum")
    return {name: ratio / total for name, ratio in split.items()}


class SplitPlan:
    """Assigns each record to a split.

    With ratios, a record goes to the split its seeded hash falls into:
    ``u = blake2b(f"{seed}:{record_id}") / 2**64`` in ``[0, 1)``, compared with the cumulative
    ratios in the given order. The assignment depends only on the seed and the record id, not
    on order or on how many records there are, so re-running an export (or listing pages in
    another order) puts every record in the same split; the proportions are met in
    expectation (binomially), not exactly.

    Without ratios every record goes to ``default``, unless the record names its own split
    (a ``split`` string field, e.g. a ground truth event's category), which is then used when
    it is a valid split name.
    """

    def __init__(self, split: Mapping[str, float] | None = None, seed: int = 0) -> None:
        self.ratios = normalize_split(split)
        self.seed = seed
        self._edges: list[tuple[float, str]] = []
        acc = 0.0
        for name, ratio in (self.ratios or {}).items():
            acc += ratio
            self._edges.append((acc, name))

    @property
    def names(self) -> tuple[str, ...]:
        """The configured split names (``("default",)`` without ratios)."""
        return tuple(self.ratios) if self.ratios else ("default",)

    def assign(self, record_id: str, own: object = None) -> str:
        """The split for ``record_id``; ``own`` is the record's own ``split`` field, if any."""
        if not self._edges:
            return own if isinstance(own, str) and _NAME.match(own) else "default"
        digest = hashlib.blake2b(f"{self.seed}:{record_id}".encode(), digest_size=8).digest()
        u = int.from_bytes(digest, "big") / 2**64
        for edge, name in self._edges:
            if u < edge and edge > 0:
                return name
        return next(
            name for _, name in reversed(self._edges) if self.ratios and self.ratios[name] > 0
        )
