"""Stable class ids: the label list an export writes and the ids its annotations use."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

__all__ = ["LabelMap"]


class LabelMap:
    """Label -> 0-based class id, stable for the whole export.

    The given labels come first, in their order (duplicates and empty names dropped); labels
    met later are appended in first-seen order and counted in ``unlisted``. Because ids are
    handed out as annotations stream by, every split of one export shares the same ids, and
    the same input gives the same ids every time. COCO category ids are ``id + 1``.
    """

    def __init__(self, labels: Iterable[str] | None = None) -> None:
        self._ids: dict[str, int] = {}
        self._check = labels is not None
        self.unlisted: Counter[str] = Counter()
        for label in labels or ():
            if isinstance(label, str) and label and label not in self._ids:
                self._ids[label] = len(self._ids)
        self._given = len(self._ids)

    def id(self, label: str) -> int:
        """The class id of ``label``, assigning the next id to a new label."""
        found = self._ids.get(label)
        if found is None:
            found = self._ids[label] = len(self._ids)
        if self._check and found >= self._given:
            self.unlisted[label] += 1
        return found

    @property
    def names(self) -> tuple[str, ...]:
        """The labels in id order."""
        return tuple(self._ids)

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, label: object) -> bool:
        return label in self._ids
