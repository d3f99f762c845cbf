"""Read a YOLO export with Ultralytics' own dataset code; print what it sees as JSON.

Run with the Python of an environment that has ``ultralytics`` (no weights, no network):
``python _read_ultralytics.py DATA_YAML TASK`` -> ``{"names", "nc", "splits": {split:
[{"file", "shape": [h, w], "boxes": [[x0, y0, x1, y1, label]], "segments": [...],
"keypoints": [...]}]}}`` in pixels.
"""

from __future__ import annotations

import json
import os
import sys

os.environ.setdefault("YOLO_OFFLINE", "1")

from ultralytics.data.dataset import YOLODataset
from ultralytics.data.utils import check_det_dataset


def main() -> None:
    data_yaml, task = sys.argv[1], sys.argv[2]
    data = check_det_dataset(data_yaml)
    out: dict[str, object] = {"names": data["names"], "nc": data["nc"], "splits": {}}
    for split in ("train", "val"):
        ds = YOLODataset(img_path=data[split], data=data, task=task, augment=False)
        items = []
        for label in ds.labels:
            h, w = label["shape"]
            boxes = [
                [
                    (cx - bw / 2) * w,
                    (cy - bh / 2) * h,
                    (cx + bw / 2) * w,
                    (cy + bh / 2) * h,
                    data["names"][int(c)],
                ]
                for (cx, cy, bw, bh), c in zip(
                    label["bboxes"].tolist(), label["cls"].ravel().tolist(), strict=True
                )
            ]
            item = {"file": os.path.basename(label["im_file"]), "shape": [h, w], "boxes": boxes}
            if label.get("segments"):
                item["segments"] = [
                    [[x * w, y * h] for x, y in s.tolist()] for s in label["segments"]
                ]
            if label.get("keypoints") is not None:
                item["keypoints"] = [
                    [[x * w, y * h, v] for x, y, v in k.tolist()] for k in label["keypoints"]
                ]
            items.append(item)
        out["splits"][split] = items  # type: ignore[index]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
