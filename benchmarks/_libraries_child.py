"""One timed conversion for ``benchmarks.export_libraries``, in a fresh process.

Self-contained on purpose (standard library + the library measured): Datumaro runs in its
own virtual environment, where neither this SDK nor the benchmark package is installed.

    python benchmarks/_libraries_child.py TOOL FORMAT DATA.json OUT_DIR

TOOL is ``sdk``, ``supervision`` or ``datumaro``; FORMAT ``yolo``, ``coco`` or ``voc``.
Building the tool's own in-memory dataset from DATA.json is not timed; the write is. Prints
one JSON line: ``{"elapsed_s", "cpu_s", "build_s", "peak_rss_mb", "files"}`` (``cpu_s``: the
process's user + sys seconds during the write, much less sensitive to a busy machine than
the wall time).
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from typing import Any


def _load(path: str) -> dict[str, Any]:
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)  # type: ignore[no-any-return]


def _sdk(fmt: str, data: dict[str, Any], out: str, durable: bool) -> None:
    from synapse_async.export import FormatOptions, write_export

    classes = data["classes"]
    records = [
        {
            "id": i + 1,
            "file_name": img["file"],
            "width": img["w"],
            "height": img["h"],
            "data": {
                "annotations": {
                    "image_1": [
                        {
                            "id": f"a{i}_{k}",
                            "tool": "bounding_box",
                            "classification": {"class": classes[c]},
                        }
                        for k, (_x, _y, _w, _h, c) in enumerate(img["boxes"])
                    ]
                },
                "annotationsData": {
                    "image_1": [
                        {"id": f"a{i}_{k}", "coordinate": {"x": x, "y": y, "width": w, "height": h}}
                        for k, (x, y, w, h, _c) in enumerate(img["boxes"])
                    ]
                },
            },
        }
        for i, img in enumerate(data["images"])
    ]
    yield_point()
    report = write_export(
        records, format=fmt, output_dir=out, labels=classes, options=FormatOptions(durable=durable)
    )
    assert report.annotations_written == sum(len(i["boxes"]) for i in data["images"]), report


def _supervision(fmt: str, data: dict[str, Any], out: str) -> None:
    import numpy as np
    import supervision as sv

    shape = data["images"][0]["h"], data["images"][0]["w"], 3
    pixels = np.broadcast_to(np.zeros(1, dtype=np.uint8), shape)  # no memory, right shape
    images, annotations = {}, {}
    for img in data["images"]:
        path = os.path.join(out, "images", img["file"])
        boxes = np.array(
            [[x, y, x + w, y + h] for x, y, w, h, _ in img["boxes"]], dtype=float
        ).reshape(-1, 4)
        ids = np.array([b[4] for b in img["boxes"]], dtype=int)
        images[path] = pixels
        annotations[path] = sv.Detections(xyxy=boxes, class_id=ids)
    dataset = sv.DetectionDataset(classes=data["classes"], images=images, annotations=annotations)
    yield_point()
    if fmt == "yolo":
        dataset.as_yolo(
            annotations_directory_path=os.path.join(out, "labels"),
            data_yaml_path=os.path.join(out, "data.yaml"),
        )
    elif fmt == "voc":
        dataset.as_pascal_voc(annotations_directory_path=os.path.join(out, "Annotations"))
    else:
        dataset.as_coco(annotations_path=os.path.join(out, "instances.json"))


def _datumaro(fmt: str, data: dict[str, Any], out: str) -> None:
    import datumaro as dm

    classes = data["classes"]
    items = [
        dm.DatasetItem(
            id=img["file"].rsplit(".", 1)[0],
            subset="train",
            media=dm.Image.from_file(path=img["file"], size=(img["h"], img["w"])),
            annotations=[dm.Bbox(x, y, w, h, label=c) for x, y, w, h, c in img["boxes"]],
        )
        for img in data["images"]
    ]
    dataset = dm.Dataset.from_iterable(items, categories=classes)
    dataset.init_cache()
    yield_point()
    name = {"yolo": "yolo", "coco": "coco_instances", "voc": "voc_detection"}[fmt]
    dataset.export(out, name, save_media=False)


_marks: list[tuple[float, float]] = []


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def yield_point() -> None:
    """Mark the end of the untimed build."""
    _marks.append((time.perf_counter(), _cpu()))


def main() -> None:
    tool, fmt, data_path, out = sys.argv[1:5]
    durable = len(sys.argv) > 5 and sys.argv[5] == "durable"
    data = _load(data_path)
    t0 = time.perf_counter()
    if tool == "sdk":
        _sdk(fmt, data, out, durable)
    elif tool == "supervision":
        _supervision(fmt, data, out)
    else:
        _datumaro(fmt, data, out)
    end, cpu = time.perf_counter(), _cpu()
    files = sum(len(names) for _, _, names in os.walk(out))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    mark, mark_cpu = _marks[-1]
    print(
        json.dumps(
            {
                "elapsed_s": end - mark,
                "cpu_s": cpu - mark_cpu,
                "build_s": mark - t0,
                "peak_rss_mb": rss,
                "files": files,
            }
        )
    )


if __name__ == "__main__":
    main()
