"""Seeding: fill the store quickly, in-process (``Seeder``) or over HTTP (``_emulator/seed/``).

Bulk helpers build docs in Python and insert them with one ``executemany`` per call, so
100 000 tasks take about a second.
"""

from __future__ import annotations

import inspect
import json
import random
from collections.abc import Sequence
from typing import Any

from .clock import now_iso
from .routes import assignments, billing, data, jobs, ml, projects, tasks
from .store import Doc, Store, encode_doc

__all__ = ["SAMPLE_ANNOTATION", "SEED_KINDS", "Seeder"]

SAMPLE_ANNOTATION: dict[str, Any] = {
    "annotations": {
        "image_1": [{"id": "a1", "tool": "bounding_box", "classification": {"class": "car"}}]
    },
    "annotationsData": {
        "image_1": [{"id": "a1", "coordinate": {"x": 10, "y": 20, "width": 30, "height": 40}}]
    },
}
"""The annotation seeded assignments carry (DM schema v1 shape, one bounding box)."""

SEED_KINDS = (
    "project",
    "tasks",
    "data_collection",
    "data_units",
    "assignments",
    "annotated_assignments",
    "job",
    "ground_truth",
    "balance",
)
"""The ``kind`` values ``POST _emulator/seed/`` accepts (the Seeder method names)."""


class Seeder:
    """Creates records directly in a :class:`Store` (no HTTP, no validation of references)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        for module in (projects, tasks, assignments, data):
            module.register_tables(store)

    def project(self, name: str = "Seeded project", **fields: Any) -> Doc:
        """Create one project; ``fields`` override the defaults. Returns it."""
        return self.store.insert(projects.TABLE, projects.new_project(name, **fields))

    def tasks(self, project_id: int, n: int, *, with_data: bool = True) -> int:
        """Create ``n`` pending tasks in ``project_id``; returns ``n``.

        With ``with_data`` each task carries a small ``data`` dict (``index``, ``text``).
        """
        # Encode one template and vary only the data per task: JSON-encoding 100k dicts
        # would dominate the time otherwise.
        template = tasks.new_task(project_id, data=None)
        values = tuple(template.get(c) for c in self.store.tables()[tasks.TABLE])
        if not with_data:
            body = encode_doc(template)
            return len(self.store.insert_encoded(tasks.TABLE, ((values, body) for _ in range(n))))
        del template["data"]
        head = encode_doc(template)[:-1]
        rows = ((values, f'{head},"data":{{"index":{i},"text":"item {i}"}}}}') for i in range(n))
        return len(self.store.insert_encoded(tasks.TABLE, rows))

    def data_collection(
        self,
        name: str = "Seeded collection",
        *,
        description: str = "",
        file_specifications: list[dict[str, Any]] | None = None,
    ) -> Doc:
        """Create one data collection (default spec: one required ``image_1`` image slot)."""
        specs = (
            file_specifications
            if file_specifications is not None
            else [{"name": "image_1", "file_type": "image", "is_required": True}]
        )
        return self.store.insert(
            data.COLLECTIONS,
            {
                "name": name,
                "description": description,
                "file_specifications": specs,
                "created": now_iso(),
            },
        )

    def data_units(self, collection_id: int, n: int) -> int:
        """Create ``n`` data units in ``collection_id`` (one fake ``image_1`` file each)."""
        now = now_iso()
        docs = (
            {
                "data_collection": collection_id,
                "files": {"image_1": {"checksum": f"{i:032x}", "path": f"seed/image_{i}.jpg"}},
                "meta": {"index": i},
                "groups": [],
                "created": now,
            }
            for i in range(n)
        )
        return len(self.store.insert_many(data.UNITS, docs))

    def assignments(self, project_id: int, n: int, *, annotated: bool = True) -> int:
        """Create ``n`` assignments in ``project_id``, one per task, oldest tasks first.

        Tasks are created first when the project has fewer than ``n``. Annotated assignments
        are ``completed`` and carry :data:`SAMPLE_ANNOTATION`; others are ``pending``.
        Returns ``n``.
        """
        existing = self.store.count(tasks.TABLE, project=project_id)
        if existing < n:
            self.tasks(project_id, n - existing)
        task_ids = self.store.ids(tasks.TABLE, limit=n, project=project_id)
        template = assignments.new_assignment(
            project_id,
            0,
            status="completed" if annotated else "pending",
            data=SAMPLE_ANNOTATION if annotated else None,
        )
        cols = self.store.tables()[assignments.TABLE]
        del template["task"]
        body = encode_doc(template)[1:]  # the doc after its opening brace, "task" left out
        rows = (
            (
                tuple(task_id if c == "task" else template.get(c) for c in cols),
                f'{{"task":{task_id},{body}',
            )
            for task_id in task_ids
        )
        return len(self.store.insert_encoded(assignments.TABLE, rows))

    def annotated_assignments(
        self,
        project_id: int,
        n_items: int,
        boxes_per_item: int = 5,
        *,
        width: int = 1280,
        height: int = 720,
        labels: Sequence[str] | None = None,
        seed: int = 0,
        file_names: Sequence[str] | None = None,
        urls: Sequence[str] | None = None,
    ) -> dict[str, int]:
        """Create ``n_items`` completed tasks, each with one completed, annotated assignment.

        Each assignment holds ``boxes_per_item`` bounding boxes in the simulator's DM shape
        (``annotations`` + ``annotationsData`` under ``image_1``; integer boxes inside the
        image, labels drawn from ``labels``: the project's, else six vehicle classes) and
        ``file = {"image_1": {"file_name", "width", "height"}}``. Item ``i`` (from 0) is
        named ``file_names[i]`` when given (verbatim, unsafe names included: for tests),
        else ``img_<i+1:07d>.jpg``; ``urls[i]``, when given, goes into its file metadata as
        ``url``. Rows are pre-encoded and bulk-inserted: 1,000,000 boxes take seconds.
        Deterministic per ``seed``. Returns ``{"project", "items", "boxes", "first_task",
        "first_assignment"}``.
        """
        for name, value, low in (
            ("n_items", n_items, 0),
            ("boxes_per_item", boxes_per_item, 0),
            ("width", width, 8),
            ("height", height, 8),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
        project = self.store.get(projects.TABLE, project_id)
        if project is None:
            raise ValueError(f"no project {project_id!r}")
        chosen = list(labels or project.get("labels") or _BOX_LABELS)
        if not chosen or not all(isinstance(lb, str) and lb for lb in chosen):
            raise ValueError(f"labels must be non-empty strings, got {labels!r}")
        names = list(file_names or ())
        links = list(urls or ())
        now = now_iso()
        task_cols = self.store.tables()[tasks.TABLE]
        metas = [_dumps(m) for m in _item_metas(n_items, width, height, names, links)]
        task_rows = (
            (
                tuple({"project": project_id, "status": "completed"}.get(c) for c in task_cols),
                f'{{"project":{project_id},"data_unit":null,"data":{meta},"status":"completed",'
                f'"tags":[],"created":"{now}","modified":"{now}"}}',
            )
            for meta in metas
        )
        task_ids = self.store.insert_encoded(tasks.TABLE, task_rows)
        cols = self.store.tables()[assignments.TABLE]
        labels_json = [_dumps(lb) for lb in chosen]
        rng = random.Random(seed)

        def rows() -> Any:
            for task_id, meta in zip(task_ids, metas, strict=True):
                doc = _box_document(rng, task_id, boxes_per_item, width, height, labels_json)
                values = {"project": project_id, "task": task_id, "status": "completed"}
                yield (
                    tuple(values.get(c) for c in cols),
                    f'{{"project":{project_id},"task":{task_id},"status":"completed",'
                    f'"data":{doc},"file":{{"image_1":{meta}}},"tags":[],'
                    f'"created":"{now}","modified":"{now}"}}',
                )

        made = self.store.insert_encoded(assignments.TABLE, rows())
        return {
            "project": project_id,
            "items": n_items,
            "boxes": n_items * boxes_per_item,
            "first_task": task_ids.start if n_items else 0,
            "first_assignment": made.start if n_items else 0,
        }

    def job(
        self,
        lines: list[str] | None = None,
        *,
        status: str = "running",
        step_seconds: float | None = None,
        outcome: str = "completed",
        **fields: Any,
    ) -> Doc:
        """Create a job with console ``lines``; returns it.

        Without ``step_seconds`` the lines exist at once and the job has ``status`` (a
        ``running`` job stays so until PATCHed); with it, one line comes per step and the job
        then ends with ``outcome``. ``fields``: ``plugin``, ``action``, ``params``, ...
        """
        return jobs.seed_job(
            self.store,
            lines=lines or [],
            status=status,
            step_seconds=step_seconds,
            outcome=outcome,
            **fields,
        )

    def ground_truth(
        self, name: str = "Seeded ground truth", *, versions: int = 1, events: int = 0
    ) -> Doc:
        """Create a ground truth with ``versions`` versions of ``events`` events each.

        Returns ``{"ground_truth": {...}, "versions": [{...}, ...]}``.
        """
        return ml.seed_ground_truth(self.store, name, versions=versions, events=events)

    def balance(self, available: str | int = "1000.00") -> Doc:
        """Set the account's available credits (a decimal string); returns the balance."""
        billing.register_tables(self.store)
        return billing.set_balance(self.store, available)

    def run(self, kind: str, args: dict[str, Any]) -> Any:
        """Call the helper named ``kind`` with ``args`` (what ``_emulator/seed/`` does).

        Raises:
            ValueError: unknown kind, or arguments that do not fit the helper's signature.
        """
        if kind not in SEED_KINDS:
            raise ValueError(f"unknown seed kind {kind!r}; expected one of {', '.join(SEED_KINDS)}")
        method = getattr(self, kind)
        try:
            inspect.signature(method).bind(**args)
        except TypeError as exc:
            raise ValueError(f"bad arguments for {kind!r}: {exc}") from None
        return method(**args)


_BOX_LABELS = ("car", "truck", "motorcycle", "bicycle", "bus", "pedestrian")
_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _item_metas(n: int, width: int, height: int, names: list[str], urls: list[str]) -> Any:
    """The file metadata of each seeded item (also its task's data)."""
    for i in range(n):
        meta: dict[str, Any] = {
            "file_name": names[i] if i < len(names) else f"img_{i + 1:07d}.jpg",
            "width": width,
            "height": height,
        }
        if i < len(urls):
            meta["url"] = urls[i]
        yield meta


def _box_document(
    rng: random.Random, task_id: int, n: int, width: int, height: int, labels: list[str]
) -> str:
    """The JSON text of a DM schema v1 document with ``n`` integer boxes inside the image."""
    metas, datas = [], []
    rand = rng.random
    for k in range(1, n + 1):
        w = 2 + int(rand() * (width // 3))
        h = 2 + int(rand() * (height // 3))
        x = int(rand() * (width - w))
        y = int(rand() * (height - h))
        label = labels[int(rand() * len(labels))]
        ident = f"ann-{task_id}-{k}"
        metas.append(
            f'{{"id":"{ident}","tool":"bounding_box","classification":{{"class":{label}}}}}'
        )
        datas.append(
            f'{{"id":"{ident}","coordinate":{{"x":{x},"y":{y},"width":{w},"height":{h}}}}}'
        )
    return (
        f'{{"annotations":{{"image_1":[{",".join(metas)}]}},'
        f'"annotationsData":{{"image_1":[{",".join(datas)}]}}}}'
    )
