"""Import an export with Datumaro (CVAT's dataset layer); print what it sees as JSON.

Run with the Python of an environment that has ``datumaro``:
``python _read_datumaro.py PATH FORMAT [voc-one-based]`` -> ``{"labels", "items": [{"id",
"subset", "boxes": [[x0, y0, x1, y1, label]]}]}`` in pixels.
"""

from __future__ import annotations

import json
import logging
import sys

import datumaro as dm


def main() -> None:
    logging.disable(logging.WARNING)  # "export_report.json was skipped" and the like
    path, fmt = sys.argv[1], sys.argv[2]
    kwargs = {"coordinate_mode": sys.argv[3]} if len(sys.argv) > 3 else {}
    ds = dm.Dataset.import_from(path, fmt, **kwargs)
    cats = ds.categories()[dm.AnnotationType.label]
    items = []
    for item in ds:
        boxes = []
        for ann in item.annotations:
            if ann.type == dm.AnnotationType.bbox:
                x, y, w, h = ann.get_bbox()
                boxes.append([x, y, x + w, y + h, cats[ann.label].name])
        items.append({"id": item.id, "subset": item.subset, "boxes": boxes})
    print(json.dumps({"labels": [c.name for c in cats], "items": items}))


if __name__ == "__main__":
    main()
