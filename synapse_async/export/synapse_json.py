"""Synapse JSON writer: the raw records, lossless, as JSON Lines or a JSON array."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .base import Writer, WriterContext
from .files import AtomicFile
from .reader import read_item
from .schema import (
    Annotation,
    BoundingBox,
    Item,
    Keypoint,
    KeypointSet,
    NamedEntity,
    Polygon,
    Polyline,
)

__all__ = ["DM_KEY", "JsonWriter", "dump_line", "dump_record", "project_record"]

DM_KEY = "dm_schema_v1"
"""The key of a project record that holds the assignment's DM schema v1 document."""


_LINE_BREAKS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})


def dump_line(value: Any) -> str:
    """Compact JSON on one physical line for every reader.

    UTF-8 text is kept as is, except U+0085, U+2028 and U+2029, which are escaped: some
    line splitters (``str.splitlines``, JavaScript) treat them as line breaks. Non-JSON values
    such as datetimes become strings.
    """
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str).translate(
        _LINE_BREAKS
    )


def dump_record(raw: Any) -> str:
    """One record as compact JSON (see :func:`dump_line`)."""
    return dump_line(raw)


def _entries_by_id(doc: Any) -> dict[str, Mapping[str, Any]]:
    """``annotationsData`` entries (and compact annotations) of a DM document, by id."""
    found: dict[str, Mapping[str, Any]] = {}
    if not isinstance(doc, Mapping):
        return found
    for section in ("annotations", "annotationsData"):
        per_media = doc.get(section)
        if not isinstance(per_media, Mapping):
            continue
        for entries in per_media.values():
            for entry in entries if isinstance(entries, list) else []:
                if isinstance(entry, Mapping) and "id" in entry:
                    found.setdefault(str(entry["id"]), {})
                    found[str(entry["id"])] = {**found[str(entry["id"])], **entry}
    return found


def _geometry(ann: Annotation) -> dict[str, Any]:
    g = ann.geometry
    if isinstance(g, BoundingBox):
        return {"x": g.x, "y": g.y, "width": g.w, "height": g.h}
    if isinstance(g, (Polygon, Polyline)):
        return {"points": [[x, y] for x, y in g.points]}
    if isinstance(g, Keypoint):
        return {"x": g.x, "y": g.y, "visible": g.visible}
    if isinstance(g, KeypointSet):
        return {
            "points": [{"x": p.x, "y": p.y, "visible": p.visible} for p in g.points],
            "names": list(g.names),
        }
    if isinstance(g, NamedEntity):
        return {"start": g.start, "end": g.end, "text": g.text}
    return {}


def project_record(assignment: Mapping[str, Any], task: Mapping[str, Any] | None) -> dict[str, Any]:
    """One record of ``project.export(format="json")``: the task and its annotations.

    Keys: ``id`` (the assignment), ``assignment``, ``project``, ``status``, ``task`` (the
    task's wire form, ``task["data"]`` holding every field it was created with, custom ones
    included), ``data`` (the same task data), ``file`` (media metadata), ``result`` (per
    type: ``classification`` ``{"label", "confidence"}``, ``boxes``, ``polygons``,
    ``keypoints``, ``entities`` ``[{"start", "end", "label", "text"}]``; only the types
    present, ``entities`` always for text), ``annotations`` (one per annotation:
    ``{"id", "type", "label", "result": {"value": label, ...geometry}}``) and
    ``dm_schema_v1`` (the assignment's DM schema v1 document, unchanged). Video records also
    carry ``video_url``, ``duration``, ``fps``, ``classification`` and ``keypoints``
    ``{"frame_<n>": {label: {"x", "y", "visible"}}}``.
    """
    doc = assignment.get("data")
    raw_files = assignment.get("file")
    files: Mapping[str, Any] = raw_files if isinstance(raw_files, Mapping) else {}
    item = read_item({"id": assignment.get("id"), "data": doc, "file": files})
    raw_by_id = _entries_by_id(doc)
    task_data = dict(task.get("data") or {}) if task else {}
    result: dict[str, Any] = {}
    annotations: list[dict[str, Any]] = []
    frames: dict[str, dict[str, Any]] = {}
    is_text = is_video = False
    for rec in item.records:
        is_text = is_text or rec.text is not None
        is_video = is_video or str(rec.media_id or "").startswith("video")
        for ann in rec.annotations:
            raw = raw_by_id.get(ann.id, {})
            geometry = _geometry(ann)
            annotations.append(
                {
                    "id": ann.id,
                    "type": ann.tool,
                    "label": ann.label,
                    "result": {"value": ann.label, **geometry},
                }
            )
            if ann.tool == "classification":
                confidence = raw.get("confidence", ann.attributes.get("confidence"))
                result.setdefault("classification", {"label": ann.label, "confidence": confidence})
            elif isinstance(ann.geometry, BoundingBox):
                result.setdefault("boxes", []).append({"label": ann.label, **geometry})
            elif isinstance(ann.geometry, (Polygon, Polyline)):
                result.setdefault("polygons", []).append({"label": ann.label, **geometry})
            elif isinstance(ann.geometry, (Keypoint, KeypointSet)):
                frame = raw.get("frame")
                if isinstance(frame, int):
                    frames.setdefault(f"frame_{frame}", {})[ann.label] = geometry
                else:
                    result.setdefault("keypoints", []).append({"label": ann.label, **geometry})
            elif isinstance(ann.geometry, NamedEntity):
                result.setdefault("entities", []).append(
                    {
                        "start": ann.geometry.start,
                        "end": ann.geometry.end,
                        "label": ann.label,
                        "text": ann.geometry.text,
                    }
                )
    if frames:
        result["keypoints"] = frames
    if is_text:
        result.setdefault("entities", [])
    task_wire = dict(task) if task else {"id": assignment.get("task")}
    task_wire["data"] = task_data
    record: dict[str, Any] = {
        "id": assignment.get("id"),
        "assignment": assignment.get("id"),
        "project": assignment.get("project"),
        "status": assignment.get("status"),
        "task": task_wire,
        "data": task_data,
        "file": files,
        "result": result,
        "annotations": annotations,
        DM_KEY: doc,
        "created": assignment.get("created"),
        "modified": assignment.get("modified"),
    }
    if is_video:
        meta = next((m for m in files.values() if isinstance(m, Mapping)), {})
        record.update(
            video_url=task_data.get("video_url", task_data.get("url", meta.get("file_name"))),
            duration=task_data.get("duration", meta.get("duration")),
            fps=task_data.get("fps", meta.get("fps")),
            classification=result.get("classification"),
            keypoints=frames,
        )
    return record


class JsonWriter(Writer):
    r"""Writes ``synapse_<split>.jsonl`` (or ``synapse_<split>.json``), one file per split.

    Conventions: each record is written exactly as it came in (``id``, ``data`` in DM schema
    v1, file metadata, anything else the server sent): lossless, nothing parsed away, even
    annotations the reader rejected or does not know. JSON Lines (default): one compact
    JSON object per line, UTF-8, ``\n`` line ends. With ``json_lines=False``: one JSON array
    per split, streamed element by element (for small exports and tools that want a single
    document). Files are renamed into place at ``finish()``; a failed export leaves none.
    """

    format = "json"

    def __init__(self, output_dir: Path, ctx: WriterContext) -> None:
        super().__init__(output_dir, ctx)
        self.lines = ctx.options.json_lines
        self._files: dict[str, AtomicFile] = {}
        self._counts: dict[str, int] = {}

    def path(self, split: str) -> Path:
        """The output file of ``split``."""
        return self.output_dir / f"synapse_{split}.{'jsonl' if self.lines else 'json'}"

    def _file(self, split: str) -> AtomicFile:
        out = self._files.get(split)
        if out is None:
            out = self._files[split] = AtomicFile(
                self.path(split), durable=self.ctx.options.durable
            )
            self._counts[split] = 0
            if not self.lines:
                out.handle.write("[")
        return out

    def begin(self) -> None:
        """Open one temp file per split."""
        super().begin()
        for split in self.ctx.splits:
            self._file(split)

    def write(self, item: Item) -> None:
        """Append the raw record."""
        out = self._file(item.split)
        text = dump_record(item.raw)
        if self.lines:
            out.handle.write(text + "\n")
        else:
            out.handle.write(("," if self._counts[item.split] else "") + "\n" + text)
        self._counts[item.split] += 1
        for rec in item.records:
            for ann in rec.annotations:
                if ann.label:
                    self.ctx.labels.id(ann.label)
        self.tally.written(item.split, item.annotation_count)

    def finish(self) -> None:
        """Close the arrays and rename every file into place."""
        for split, out in self._files.items():
            if not self.lines:
                out.handle.write("\n]\n")
            out.commit()
            self._record_file(self.path(split))

    def abort(self) -> None:
        """Delete the temp files."""
        for out in self._files.values():
            out.discard()
