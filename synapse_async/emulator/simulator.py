"""The annotation simulator: completes the tasks of ``active`` projects over time.

Every ``tick`` seconds each active project earns ``speed x elapsed`` tasks of work; that many
of its ``pending`` tasks (oldest first) become ``completed``, each with one ``completed``
assignment whose ``data`` is a DM schema v1 document and whose ``file`` describes the media.
A ``task.completed`` event goes out per task (only when a webhook wants it); when no task is
left pending the project becomes ``completed``, its deposit is settled and
``project.completed`` goes out. Results are deterministic per (project id, task id).

The documents (``<m>`` is the media id: ``image_1``, ``text_1``, ``video_1``, ... from the
project's ``data_type``, default ``image``, ``text`` for named entities; ``<id>`` is
``ann-<task id>-<n>``; labels come from the project's ``labels``, ``["object"]`` if none)::

    bounding_box (1-3 per task; ints, inside the image)
      annotations:     {<m>: [{"id", "tool": "bounding_box", "classification": {"class": L}}]}
      annotationsData: {<m>: [{"id", "coordinate": {"x", "y", "width", "height"}}]}
    polygon (1-2 per task; 3-7 convex vertices, inside the image)
      annotations:     {<m>: [{"id", "tool": "polygon", "classification": {"class": L}}]}
      annotationsData: {<m>: [{"id", "coordinate": [{"x", "y", "id": "p<k>"}, ...]}]}
    keypoint (one point per label, max 32; visible 2, or 1 when occluded)
      annotations:     {<m>: [{"id", "tool": "keypoint", "classification": {"class": L}}]}
      annotationsData: {<m>: [{"id", "coordinate": {"x", "y", "visible"}}]}
    classification (exactly one per task; no coordinates)
      annotations:     {<m>: [{"id", "tool": "classification", "classification": {"class": L}}]}
      annotationsData: {<m>: []}
    named_entity (1-3 per task; spans on word tokens, no overlaps, end exclusive)
      annotations:     {<m>: [{"id", "tool": "named_entity", "classification": {"class": L}}]}
      annotationsData: {<m>: [{"id", "ranges": [{"start", "end"}], "content": text[start:end]}]}

The assignment's ``file`` is ``{<m>: {"file_name", "width", "height"}}`` for images and
video (size from the task data's ``width``/``height`` when given, 32+ px), and
``{<m>: {"file_name", "text"}}`` for named entities (the task data's ``text``, else
``content``, else a generated sentence). ``annotation_type`` aliases: ``bbox``,
``object_detection`` (bounding_box); ``segmentation`` (polygon); ``pose`` (keypoint); ``ner``,
``named_entity_recognition`` (named_entity); anything else is classification.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import re
from typing import Any

from .clock import now_iso
from .routes import assignments, billing, projects, tasks
from .store import Doc, Store
from .webhook_delivery import WebhookDispatcher

__all__ = ["PROGRESS", "AnnotationSimulator", "make_annotation", "progress_doc", "set_state"]

log = logging.getLogger("synapse_async.emulator.simulator")

PROGRESS = "project_progress"
"""Per-project workflow bookkeeping: started/completed times and quality sums."""

_TOOLS = {
    "bounding_box": "bounding_box",
    "bbox": "bounding_box",
    "object_detection": "bounding_box",
    "polygon": "polygon",
    "segmentation": "polygon",
    "keypoint": "keypoint",
    "keypoints": "keypoint",
    "pose": "keypoint",
    "named_entity": "named_entity",
    "ner": "named_entity",
    "named_entity_recognition": "named_entity",
    "classification": "classification",
}
_SIZES = ((640, 480), (1280, 720), (1920, 1080), (800, 600))
_EXT = {"image": "jpg", "video": "mp4", "text": "txt", "audio": "wav"}
_WORD = re.compile(r"\w+")
_EVENTS = {
    "active": "project.started",
    "paused": "project.paused",
    "review": "project.review",
    "completed": "project.completed",
    "cancelled": "project.cancelled",
}


def register_tables(store: Store) -> None:
    """Create the tables this module owns."""
    store.register_table(PROGRESS, indexed=("project",))


def progress_doc(store: Store, project_id: int) -> Doc:
    """The project's bookkeeping doc (created on first use)."""
    found = store.list(PROGRESS, limit=1, project=project_id)
    if found:
        return found[0]
    return store.insert(
        PROGRESS,
        {
            "project": project_id,
            "started_at": None,
            "completed_at": None,
            "agreement_sum": 0.0,
            "honeypots": 0,
            "honeypots_passed": 0,
        },
    )


def event_data(store: Store, project: Doc) -> dict[str, Any]:
    """The ``data`` of a ``project.*`` event."""
    pid = project["id"]
    return {
        "project_id": pid,
        "name": project.get("name", ""),
        "state": project["state"],
        "total_tasks": store.count(tasks.TABLE, project=pid),
        "completed_tasks": store.count(tasks.TABLE, project=pid, status="completed"),
        "metadata": project.get("metadata") or {},
    }


def set_state(store: Store, dispatcher: WebhookDispatcher, project: Doc, state: str) -> Doc:
    """Move ``project`` to ``state`` (bookkeeping, ``project.*`` event); returns the doc."""
    now = now_iso()
    updated = store.update(projects.TABLE, project["id"], {"state": state, "modified": now})
    assert updated is not None
    progress = progress_doc(store, project["id"])
    if state == "active" and progress["started_at"] is None:
        store.update(PROGRESS, progress["id"], {"started_at": now})
    elif state == "completed":
        store.update(PROGRESS, progress["id"], {"completed_at": now})
    event = _EVENTS.get(state)
    if event is not None:
        dispatcher.emit(event, project["id"], event_data(store, updated))
    return updated


def _tool(annotation_type: Any) -> str:
    key = str(annotation_type or "").strip().lower().replace("-", "_").replace(" ", "_")
    return _TOOLS.get(key, "classification")


def _file_name(data: dict[str, Any], task_id: int, media_type: str) -> str:
    for key in ("file_name", "filename", "image_url", "url", "video_url"):
        value = data.get(key)
        if isinstance(value, str) and value.strip():
            return value.rstrip("/").rsplit("/", 1)[-1] or f"task_{task_id}"
    return f"task_{task_id}.{_EXT.get(media_type, 'bin')}"


def _size(data: dict[str, Any], rng: random.Random) -> tuple[int, int]:
    w, h = data.get("width"), data.get("height")
    if all(isinstance(v, int) and not isinstance(v, bool) and v >= 32 for v in (w, h)):
        return w, h  # type: ignore[return-value]
    return rng.choice(_SIZES)


def _box(rng: random.Random, w: int, h: int) -> dict[str, int]:
    bw, bh = (
        rng.randint(max(2, w // 10), max(3, w // 2)),
        rng.randint(max(2, h // 10), max(3, h // 2)),
    )
    return {"x": rng.randint(0, w - bw), "y": rng.randint(0, h - bh), "width": bw, "height": bh}


def _polygon(rng: random.Random, w: int, h: int) -> list[dict[str, Any]]:
    """A convex polygon with a real area: vertices spread around a circle (one per sector).

    Fully random angles could bunch up so that the rounded vertices fell on one line (a
    zero-area polygon, which exports reject); one vertex per equal sector, jittered within
    its middle half, keeps them apart.
    """
    r = rng.randint(8, max(9, min(w, h) // 4))
    cx, cy = rng.randint(r, w - r), rng.randint(r, h - r)
    n = rng.randint(3, 7)
    sector = 2 * math.pi / n
    start = rng.uniform(0, 2 * math.pi)
    angles = [start + sector * (k + rng.uniform(0.25, 0.75)) for k in range(n)]
    return [
        {"x": round(cx + r * math.cos(a)), "y": round(cy + r * math.sin(a)), "id": f"p{k}"}
        for k, a in enumerate(angles)
    ]


def _text(data: dict[str, Any], task_id: int) -> str:
    for key in ("text", "content"):
        value = data.get(key)
        if isinstance(value, str) and value.strip():
            return value
    return (
        f"Report {task_id} says Acme Corporation paid Jane Doe 2500 dollars in "
        f"Springfield on 15 January 2024."
    )


def _entities(rng: random.Random, text: str) -> list[tuple[int, int]]:
    spans = [m.span() for m in _WORD.finditer(text)]
    if not spans:
        return []
    chosen = sorted(rng.sample(range(len(spans)), min(len(spans), rng.randint(1, 3))))
    out = []
    for n, i in enumerate(chosen):
        start, end = spans[i]
        nxt = i + 1
        joinable = (
            nxt < len(spans)
            and (n + 1 == len(chosen) or chosen[n + 1] > nxt)
            and text[end : spans[nxt][0]] == " "
        )
        if joinable and rng.random() < 0.3:
            end = spans[nxt][1]
        out.append((start, end))
    return out


def _label_sets(project: Doc) -> list[tuple[str, list[str]]]:
    """``[(tool, labels)]``, one per annotation type of the project (in its order)."""
    kinds = project.get("annotation_type")
    kinds = list(kinds) if isinstance(kinds, list) else [kinds]
    raw = project.get("labels") or []
    flat = (
        [lb for names in raw.values() for lb in names]
        if isinstance(raw, dict)
        else [lb for lb in raw if isinstance(lb, str)]
    )
    out = []
    for kind in kinds:
        own = raw.get(kind) if isinstance(raw, dict) and isinstance(kind, str) else None
        names = [lb for lb in own or flat if isinstance(lb, str)] or ["object"]
        out.append((_tool(kind), names))
    return out


def _video_frames(project: Doc, data: dict[str, Any], fps: float, duration: float) -> list[int]:
    """The frames annotated in a video: every ``frame_sampling_rate``-th, at most 3."""
    rate = (project.get("quality_settings") or {}).get("frame_sampling_rate", 10)
    rate = rate if isinstance(rate, int) and not isinstance(rate, bool) and rate > 0 else 10
    total = max(1, int(fps * duration))
    return list(range(0, total, rate))[:3]


def make_annotation(project: Doc, task: Doc) -> tuple[dict[str, Any], dict[str, Any], float]:
    """The simulated result for ``task``: ``(DM document, file metadata, agreement)``.

    Deterministic per (project id, task id); the shapes are in the module docstring. A
    multi-type project (``annotation_type`` a list) gets the annotations of every type, each
    with its own labels (``labels`` keyed by type). Video keypoints are marked on sampled
    frames (``frame`` in each annotationsData entry); the file metadata of a video carries
    ``duration`` and ``fps``.
    """
    task_id = int(task["id"])
    rng = random.Random(f"{project['id']}:{task_id}")
    data = task.get("data") if isinstance(task.get("data"), dict) else {}
    assert isinstance(data, dict)
    sets = _label_sets(project)
    tools = [tool for tool, _names in sets]
    media_type = "text" if "named_entity" in tools else str(project.get("data_type") or "image")
    media = f"{media_type}_1"
    metas: list[dict[str, Any]] = []
    datas: list[dict[str, Any]] = []
    score = round(rng.uniform(0.72, 0.99), 4)
    counter = iter(range(1, 10**6))

    def add(tool: str, label: str, **coords: Any) -> None:
        ident = f"ann-{task_id}-{next(counter)}"
        meta: dict[str, Any] = {"id": ident, "tool": tool, "classification": {"class": label}}
        if tool == "classification":
            meta["confidence"] = score
        metas.append(meta)
        if coords:
            datas.append({"id": ident, **coords})

    if "named_entity" in tools:
        text = _text(data, task_id)
        file: dict[str, Any] = {"file_name": _file_name(data, task_id, media_type), "text": text}
    else:
        width, height = _size(data, rng)
        file = {
            "file_name": _file_name(data, task_id, media_type),
            "width": width,
            "height": height,
        }
    frames: list[int | None] = [None]
    if media_type == "video":
        given_fps, given_duration = data.get("fps"), data.get("duration")
        fps: float = given_fps if isinstance(given_fps, (int, float)) else 30
        duration: float = given_duration if isinstance(given_duration, (int, float)) else 10.5
        file.update(fps=fps, duration=duration)
        frames = list(_video_frames(project, data, fps, duration))
    for tool, labels in sets:
        if tool == "named_entity":
            for start, end in _entities(rng, file["text"]):
                add(
                    tool,
                    rng.choice(labels),
                    ranges=[{"start": start, "end": end}],
                    content=file["text"][start:end],
                )
        elif tool == "bounding_box":
            for _ in range(rng.randint(1, 3)):
                add(tool, rng.choice(labels), coordinate=_box(rng, width, height))
        elif tool == "polygon":
            for _ in range(rng.randint(1, 2)):
                add(tool, rng.choice(labels), coordinate=_polygon(rng, width, height))
        elif tool == "keypoint":
            for frame in frames:
                for label in labels[:32]:
                    point = {
                        "x": rng.randint(0, width - 1),
                        "y": rng.randint(0, height - 1),
                        "visible": 1 if rng.random() < 0.1 else 2,
                    }
                    extra = {} if frame is None else {"frame": frame}
                    add(tool, label, coordinate=point, **extra)
        else:
            add(tool, rng.choice(labels))
    document = {"annotations": {media: metas}, "annotationsData": {media: datas}}
    return document, {media: file}, score


class AnnotationSimulator:
    """Completes tasks of active projects in the background (``start()``/``close()``).

    Args:
        store: the record store.
        dispatcher: sends the webhook events.
        speed: tasks per second per active project (0 pauses the simulator).
        tick: seconds between steps.
    """

    def __init__(
        self, store: Store, dispatcher: WebhookDispatcher, *, speed: float, tick: float = 0.05
    ) -> None:
        if not (math.isfinite(speed) and speed >= 0) or not (math.isfinite(tick) and tick > 0):
            raise ValueError(f"speed must be >= 0 and tick > 0, got {speed!r}, {tick!r}")
        self._store = store
        self._dispatcher = dispatcher
        self.speed = float(speed)
        self.tick = float(tick)
        self._credit: dict[int, float] = {}
        self._task: asyncio.Task[None] | None = None
        register_tables(store)

    async def start(self) -> None:
        """Start the background loop."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name="annotation-simulator"
            )

    async def close(self) -> None:
        """Stop the background loop and wait for it."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        last = loop.time()
        while True:
            await asyncio.sleep(self.tick)
            now = loop.time()
            try:
                self.advance(now - last)
            except Exception:  # one bad project must not stop the simulator
                log.exception("annotation simulator step failed")
            last = now

    def advance(self, seconds: float) -> int:
        """Do ``seconds`` of annotation work in every active project; returns tasks done."""
        done = 0
        if self.speed * seconds > 0:  # expert review takes one step of work
            for project in self._store.list(projects.TABLE, limit=None, state="review"):
                self._finish(project)
        active = self._store.list(projects.TABLE, limit=None, state="active")
        for project in active:
            pid = project["id"]
            credit = self._credit.get(pid, 0.0) + self.speed * seconds
            n = int(credit)
            self._credit[pid] = credit - n
            done += self.complete(project, n)
        return done

    def complete(self, project: Doc | int, n: int) -> int:
        """Annotate up to ``n`` pending tasks of an active project now; returns how many.

        Completes the project when no task is left pending (through ``review`` when its
        quality settings ask for expert review; a call on a project in review completes it).
        """
        doc = self._store.get(projects.TABLE, project) if isinstance(project, int) else project
        if doc is not None and doc.get("state") == "review":
            self._finish(doc)
            return 0
        if doc is None or doc.get("state") != "active":
            return 0
        pid = doc["id"]
        store = self._store
        ids = store.ids(tasks.TABLE, limit=max(n, 0), project=pid, status="pending")
        if ids:
            self._annotate(doc, store.list(tasks.TABLE, limit=None, id=ids))
        if store.count(tasks.TABLE, project=pid, status="pending") == 0:
            self._credit.pop(pid, None)
            if (doc.get("quality_settings") or {}).get("enable_expert_review") is True:
                set_state(store, self._dispatcher, doc, "review")
            else:
                self._finish(doc)
        return len(ids)

    def _finish(self, doc: Doc) -> None:
        """``review``/``active`` -> ``completed``: settle the deposit, emit the event."""
        amount = billing.paid_amount(self._store, doc["id"], "credits")
        if amount is not None:
            billing.settle(self._store, amount)
        set_state(self._store, self._dispatcher, doc, "completed")

    def _annotate(self, project: Doc, todo: list[Doc]) -> None:
        store = self._store
        pid = project["id"]
        now = now_iso()
        new_docs = []
        agreement = 0.0
        passed = 0
        for task in todo:
            document, file, score = make_annotation(project, task)
            agreement += score
            passed += score >= 0.75
            new_docs.append(
                assignments.new_assignment(
                    pid, task["id"], status="completed", data=document, file=file, now=now
                )
            )
        with store.transaction():
            store.update_many(
                tasks.TABLE, [t["id"] for t in todo], {"status": "completed", "modified": now}
            )
            created = store.insert_many(assignments.TABLE, new_docs)
            progress = progress_doc(store, pid)
            store.update(
                PROGRESS,
                progress["id"],
                {
                    "agreement_sum": progress["agreement_sum"] + agreement,
                    "honeypots": progress["honeypots"] + len(todo),
                    "honeypots_passed": progress["honeypots_passed"] + passed,
                },
            )
        hooks = self._dispatcher.subscribers("task.completed", pid)
        if hooks:
            total = store.count(tasks.TABLE, project=pid)
            before = store.count(tasks.TABLE, project=pid, status="completed") - len(todo)
            for k, (task, assignment) in enumerate(zip(todo, created, strict=True), 1):
                self._dispatcher.emit(
                    "task.completed",
                    pid,
                    {
                        "project_id": pid,
                        "task_id": task["id"],
                        "assignment_id": assignment["id"],
                        "completed_count": before + k,
                        "total_count": total,
                    },
                    hooks=hooks,
                )
