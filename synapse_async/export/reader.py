"""Read DM schema v1 annotation documents and raw export records into normalized types.

Two document shapes are accepted, also mixed within one document:

Full shape (what the Synapse annotator saves; the emulator seeds it)::

    {"annotations":     {"image_1": [{"id": "a1", "tool": "bounding_box",
                                      "classification": {"class": "car", "color": "red"}}]},
     "annotationsData": {"image_1": [{"id": "a1",
                                      "coordinate": {"x": 10, "y": 20, "width": 30,
                                                     "height": 40, "rotation": 0.1}}]}}

Entries are joined by ``id`` within a media key. Compact shape (the export workflow's)::

    {"annotations": {"image_1": [{"id": "b1", "type": "bbox", "data": [10, 20, 30, 40],
                                  "classification": "car"}]}}

Coordinates accepted per tool (``coordinate`` in ``annotationsData``, or ``coordinate`` /
``data`` on the entry itself), all in absolute pixels:

- bounding_box: ``{x, y, width, height, rotation?}`` or ``[x, y, w, h]`` or
  ``[x, y, w, h, rotation]``; rotation in radians about the centre. ``w, h > 0``.
- polygon: ``[{x, y, id?}, ...]``, ``[[x, y], ...]`` or flat ``[x1, y1, x2, y2, ...]``; 3+
  points. polyline: the same, 2+ points.
- keypoint: one point ``{x, y, visible?}`` / ``[x, y]`` / ``[x, y, v]``, or a list of points
  (a pose) with optional ``names`` and ``skeleton`` (0-based pairs) beside it.
- classification: no coordinates; the label and attributes come from ``classification``.
- named_entity: ``{start, end}`` / ``[start, end]``, top-level ``start``/``end``, or
  ``ranges: [{start, end}]`` (one range); character offsets, end exclusive.
- segmentation: ``pixel_indices: [int, ...]`` (row-major ``y * width + x``) or
  ``section: {startFrame, endFrame}``.

The label is ``classification.class`` (full) or ``classification`` as a string (compact);
other ``classification`` keys become attributes. Annotations with a tool outside these are
counted per tool name in ``unknown_tools``; invalid ones (NaN, negative or zero size, wrong
arity, missing coordinates or label, ...) are counted per reason in ``invalid``. Neither
raises.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import unquote, urlsplit

import attrs

from synapse_async._validation import is_number

from .coords import PARSERS, InvalidAnnotation, canonical_tool
from .files import safe_filename, split_ext
from .imagesize import MIME_EXTENSIONS
from .schema import Annotation, ImageRecord, Item

__all__ = [
    "IMAGE_EXTENSIONS",
    "ParsedDocument",
    "has_image_extension",
    "read_document",
    "read_item",
]

IMAGE_EXTENSIONS = frozenset(
    (
        ".bmp",
        ".dng",
        ".jpeg",
        ".jpg",
        ".mpo",
        ".png",
        ".tif",
        ".tiff",
        ".webp",
        ".pfm",
        ".heic",
        ".gif",
    )
)
"""Extensions image readers (Ultralytics, supervision, Datumaro) recognise as images."""


def has_image_extension(name: str) -> bool:
    """True when ``name`` ends in an image extension (:data:`IMAGE_EXTENSIONS`, any case)."""
    return split_ext(name)[1].lower() in IMAGE_EXTENSIONS


@attrs.frozen
class ParsedDocument:
    """A DM document's valid annotations per media key, and what was rejected.

    Attributes:
        media: media key (None when ``annotations`` is a plain list) -> annotations, in the
            order of the document's keys.
        unknown_tools: tool name -> count.
        invalid: reason -> count.
    """

    media: Mapping[str | None, tuple[Annotation, ...]]
    unknown_tools: Mapping[str, int] = attrs.field(factory=dict)
    invalid: Mapping[str, int] = attrs.field(factory=dict)


def _entries(value: Any) -> list[Mapping[str, Any]]:
    if type(value) is list and all(type(e) is dict for e in value):  # JSON, the usual case
        return value
    if not isinstance(value, Sequence) or isinstance(value, str):
        return []
    return [e for e in value if isinstance(e, Mapping)]


def _by_media(section: Any) -> dict[str | None, list[Mapping[str, Any]]]:
    if type(section) is dict or isinstance(section, Mapping):
        return {str(k): _entries(v) for k, v in section.items()}
    if isinstance(section, Sequence) and not isinstance(section, str):
        return {None: _entries(section)}
    return {}


def _label_and_attributes(entry: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    cls = entry.get("classification")
    if type(cls) is dict and len(cls) == 1:  # the usual {"class": label}
        label = cls.get("class")
        if type(label) is str:
            return label, {}
    if isinstance(cls, str):
        extra = entry.get("attributes")
        return cls, {str(k): v for k, v in extra.items()} if isinstance(extra, Mapping) else {}
    if isinstance(cls, Mapping):
        label = cls.get("class")
        attributes = {str(k): v for k, v in cls.items() if k != "class"}
        return (label if isinstance(label, str) else ""), attributes
    label = entry.get("label")
    if isinstance(label, Sequence) and not isinstance(label, str) and label:
        label = label[0]
    return (label if isinstance(label, str) else ""), {}


_META_KEYS = frozenset(("id", "tool", "type", "classification", "label", "attributes"))
"""Entry keys that only name or label an annotation (no parser reads them)."""


def _annotation(entry: Mapping[str, Any], data: Mapping[str, Any] | None) -> Annotation:
    raw_tool = entry.get("tool")
    if raw_tool is None:
        raw_tool = entry.get("type")
    tool = canonical_tool(raw_tool)
    if tool is None:
        raise LookupError(str(raw_tool) if raw_tool is not None else "<missing>")
    fields: Mapping[str, Any]
    if data and entry.keys() <= _META_KEYS:
        fields = data  # the entry adds nothing a parser reads (parsers never modify fields)
    else:
        merged = dict(data) if data else {}
        for k, v in entry.items():
            if v is not None:
                merged[k] = v
        fields = merged
    geometry = PARSERS[tool](fields)
    label, attributes = _label_and_attributes(entry)
    if not label.strip() and tool != "classification":
        raise InvalidAnnotation("missing_label")
    return Annotation(str(entry.get("id", "")), tool, label, geometry, attributes)


def read_document(doc: Mapping[str, Any] | None) -> ParsedDocument:
    """Parse one DM schema v1 document (either shape; see the module docstring)."""
    if type(doc) is not dict and not isinstance(doc, Mapping):
        return ParsedDocument({})
    metas = _by_media(doc.get("annotations"))
    datas = _by_media(doc.get("annotationsData"))
    unknown: Counter[str] | None = None
    invalid: Counter[str] | None = None
    media: dict[str | None, tuple[Annotation, ...]] = {}
    for key, entries in metas.items():
        data_by_id = {str(d.get("id")): d for d in datas.get(key, ()) if "id" in d}
        out: list[Annotation] = []
        for entry in entries:
            data = data_by_id.get(str(entry.get("id"))) if "id" in entry else None
            try:
                out.append(_annotation(entry, data))
            except LookupError as exc:
                unknown = unknown or Counter()
                unknown[str(exc.args[0])] += 1
            except InvalidAnnotation as exc:
                invalid = invalid or Counter()
                invalid[exc.reason] += 1
        if data_by_id:  # data entries no annotation entry claims
            ids = {str(e.get("id")) for e in entries if "id" in e}
            orphans = len(data_by_id.keys() - ids)
            if orphans:
                invalid = invalid or Counter()
                invalid["orphan_data"] += orphans
        media[key] = tuple(out)
    for key in datas.keys() - metas.keys():
        if datas[key]:
            invalid = invalid or Counter()
            invalid["orphan_data"] += len(datas[key])
    return ParsedDocument(media, dict(unknown) if unknown else {}, dict(invalid) if invalid else {})


def _positive_int(value: Any) -> int | None:
    if not is_number(value):
        return None
    if isinstance(value, float) and not value.is_integer():
        return None
    return int(value) if value > 0 else None


def _name_from(meta: Mapping[str, Any]) -> str | None:
    for key in ("file_name", "filename", "name", "original_name", "path"):
        value = meta.get(key)
        if isinstance(value, str) and value.strip():
            return value
    url = meta.get("url")
    if isinstance(url, str) and url:
        path = unquote(urlsplit(url).path)
        return path.rsplit("/", 1)[-1] or None
    return None


def _size(meta: Mapping[str, Any]) -> tuple[int | None, int | None]:
    inner = meta.get("meta")
    sources = (meta, inner) if isinstance(inner, Mapping) else (meta,)
    width = height = None
    for source in sources:
        width = width or _positive_int(source.get("width"))
        height = height or _positive_int(source.get("height"))
    return width, height


def _media_type(meta: Mapping[str, Any]) -> str | None:
    for key in ("mime_type", "mimetype", "content_type", "media_type"):
        value = meta.get(key)
        if isinstance(value, str) and "/" in value:
            return value.split(";", 1)[0].strip().lower()
    return None


def _with_extension(name: str, media_type: str | None) -> str:
    """``name`` with the extension its MIME type gives, when it has no image extension."""
    ext = MIME_EXTENSIONS.get(media_type or "")
    if ext is None or has_image_extension(name):
        return name
    return name + ext


def _files(raw: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    files = raw.get("files", raw.get("file"))
    if not isinstance(files, Mapping):
        return {}
    if files and all(isinstance(v, Mapping) for v in files.values()):
        return {str(k): v for k, v in files.items()}
    return {}


def read_item(
    raw: Mapping[str, Any],
    *,
    split: str = "default",
    fallback_id: str = "",
    namer: Callable[[str], str] | None = None,
) -> Item:
    """Parse one raw export record into an :class:`Item`.

    The record: ``{"id", "data": <DM schema v1 document or None>, "file_name"?, "width"?,
    "height"?, "text"?, "files"?: {media_key: {"file_name" | "name" | "path" | "url",
    "width", "height", "text"?}}}`` (``file`` is accepted for ``files``, as assignments name
    it). There is one :class:`ImageRecord` per media key found in the document's
    ``annotations`` or in ``files``, or a single one when there are none. Per-media metadata
    wins; the top-level ``file_name``/``width``/``height``/``text`` fill what is missing.
    File names are made safe (:func:`safe_filename`); the fallback name is the record id
    (``<id>_<media key>`` when the record has several media). A name without an image
    extension takes the one its MIME type gives (``mime_type``/``content_type`` in the
    media's metadata or the record). ``namer`` (the export's unique-name rule) maps each
    final name.
    """
    item_id = raw.get("id")
    ident = str(item_id) if item_id is not None and item_id != "" else fallback_id
    doc = raw.get("data")
    parsed = read_document(doc if isinstance(doc, Mapping) else None)
    files = _files(raw)
    keys: list[str | None] = list(parsed.media)
    keys += [k for k in files if k not in parsed.media]
    if not keys:
        keys = [None]
    top_width, top_height = _size(raw)
    top_name = _name_from(raw)
    top_text = raw.get("text") if isinstance(raw.get("text"), str) else None
    top_type = _media_type(raw)
    records = []
    for key in keys:
        meta = files.get(key, {}) if key is not None else {}
        width, height = _size(meta)
        text = meta.get("text", meta.get("content"))
        fallback = ident if len(keys) == 1 or key is None else f"{ident}_{key}"
        name = _name_from(meta) or (top_name if len(keys) == 1 else None)
        media_type = _media_type(meta) or top_type
        file_name = _with_extension(safe_filename(name, fallback=fallback or "item"), media_type)
        records.append(
            ImageRecord(
                item_id=ident,
                media_id=key,
                file_name=namer(file_name) if namer is not None else file_name,
                width=width or top_width,
                height=height or top_height,
                text=text if isinstance(text, str) else top_text,
                annotations=parsed.media.get(key, ()),
                split=split,
                media_type=media_type,
            )
        )
    return Item(ident, raw, tuple(records), parsed.unknown_tools, parsed.invalid, split)
