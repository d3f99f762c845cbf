"""Seed 001 (the export workflow): its ``BackendClient`` calls and converters run through
``synapse_sync.compat`` / ``synapse_async.export`` against the emulator.

The only change to the seed's lines is the import (``synapse_sdk.clients.backend`` ->
``synapse_sync.compat``, ``synapse_sdk.utils.converters.coco.from_dm`` ->
``synapse_async.export``). The ``requests`` listing of ``/api/annotation/projects/`` is not a
``BackendClient`` call (and another URL scheme): its SDK equivalent is tested instead, see
``test_listing_projects_through_the_sdk``.
"""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from tests.integration.seeds.conftest import SEED_TOKEN, SeedEmulator

DM_V1 = {  # the seed's "Annotation data" example, with its "..." filled in
    "assignmentId": "job-123",
    "annotations": {
        "image_1": [
            {"id": "abc123", "type": "bbox", "data": [100, 200, 50, 80], "classification": "car"},
            {
                "id": "def456",
                "type": "polygon",
                "data": [[10, 20], [30, 40], [10, 40]],
                "classification": "road",
            },
        ]
    },
    "annotationsData": {
        "image_1": [{"id": "abc123", "type": "bbox"}, {"id": "def456", "type": "polygon"}]
    },
    "relations": {},
    "annotationGroups": {},
    "extra": {},
}


@pytest.fixture
def env(seed_emulator: SeedEmulator, monkeypatch: pytest.MonkeyPatch) -> SeedEmulator:
    monkeypatch.setenv("SYNAPSE_ACCESS_TOKEN", SEED_TOKEN)
    return seed_emulator


def test_listing_ground_truth_versions(env: SeedEmulator) -> None:
    made = env.run(env.emu.seed.ground_truth, "GT", versions=2)
    dataset_id = made["ground_truth"]["id"]
    # --- seed block "Listing ground truth datasets" ---
    from synapse_sync.compat import BackendClient

    client = BackendClient(
        base_url=os.environ["SYNAPSE_HOST"],
        access_token=os.environ["SYNAPSE_ACCESS_TOKEN"],
    )
    # List GT versions for a dataset
    versions = client.list_ground_truth_versions(params={"ground_truth_dataset": dataset_id})
    # --- end ---
    assert [v["version"] for v in versions["results"]] == ["v1", "v2"]
    assert versions["count"] == 2


def test_script_based_export(
    env: SeedEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project_id = env.run(env.emu.seed.project, "export me")["id"]
    env.run(env.emu.seed.assignments, project_id, 150)
    PROJECT_ID = project_id
    # --- seed block "Script pattern" (the import line changed) ---
    from synapse_sync.compat import BackendClient

    client = BackendClient(
        base_url=os.environ["SYNAPSE_HOST"],
        access_token=os.environ["SYNAPSE_ACCESS_TOKEN"],
    )

    OUTPUT_DIR = Path("/tmp/export_output")
    OUTPUT_DIR = tmp_path / "export_output"  # ADAPTED: a per-test folder, not /tmp
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)

    # Fetch all assignments for the project
    results, count = client.list_assignments(
        params={"project": PROJECT_ID},
        list_all=True,
    )
    print(f"Found {count} assignments to export")

    # Export each assignment
    for i, assignment in enumerate(results):
        data = assignment["data"]  # DM Schema v1 annotation data
        files = assignment["file"]  # File metadata
        assignment_id = assignment["id"]

        output_path = OUTPUT_DIR / f"{assignment_id}.json"
        with open(output_path, "w") as f:
            json.dump({"data": data, "files": files, "id": assignment_id}, f, indent=2)

        if (i + 1) % 100 == 0:
            print(f"Exported {i + 1}/{count}...")

    print(f"\nDone! Exported {count} assignments to {OUTPUT_DIR}")
    # --- end ---
    out = capsys.readouterr().out
    assert out.startswith("Found 150 assignments to export\nExported 100/150...\n")
    assert f"Done! Exported 150 assignments to {OUTPUT_DIR}" in out
    assert len(list(OUTPUT_DIR.glob("*.json"))) == 150


def test_sdk_methods_reference(env: SeedEmulator) -> None:
    from synapse_sync.compat import BackendClient

    project_id = env.run(env.emu.seed.project, "p")["id"]
    env.run(env.emu.seed.assignments, project_id, 3)
    gt = env.run(env.emu.seed.ground_truth, "GT", versions=1, events=4)
    version_id = gt["versions"][0]["id"]
    collection = env.run(env.emu.seed.data_collection)
    client = BackendClient(
        base_url=os.environ["SYNAPSE_HOST"], access_token=os.environ["SYNAPSE_ACCESS_TOKEN"]
    )
    storage = client.create_storage(
        {
            "name": "main",
            "provider": "file_system",
            "configuration": {"location": "/data"},
            "is_default": True,
        }
    )
    # the table "SDK Methods Reference", one call each
    assignments, n = client.list_assignments({"project": project_id}, list_all=True)
    assert n == 3 and len(list(assignments)) == 3
    tasks, n = client.list_tasks({"project": project_id}, list_all=True)
    assert n == 3
    events, n = client.list_ground_truth_events(
        {"ground_truth_dataset_versions": [version_id]}, list_all=True
    )
    assert n == 4 and len(list(events)) == 4
    assert client.get_project(project_id)["id"] == project_id
    assert client.get_ground_truth_version(version_id)["id"] == version_id
    assert client.get_storage(storage["id"])["configuration"] == {"location": "/data"}
    assert client.get_default_storage()["id"] == storage["id"]
    assert client.get_data_collection(collection["id"])["id"] == collection["id"]


def test_dm_to_coco_converter(tmp_path: Path) -> None:
    images = tmp_path / "images"
    images.mkdir()
    (images / "img.png").write_bytes(b"png")
    dm_v1_data = {
        "id": 1,
        "data": DM_V1,
        "files": {"image_1": {"file_name": "img.png", "width": 1920, "height": 1080}},
    }
    # --- seed block "DM Schema v1 -> COCO" (the import line changed) ---
    from synapse_async.export import DMtoCOCOConverter

    converter = DMtoCOCOConverter()
    # Input: DM v1 data dict
    # Output: COCO JSON saved to output_dir
    converter.convert(
        dm_v1_data, output_dir=str(tmp_path / "coco_output"), original_file_dir=str(images)
    )
    # --- end ---
    coco = json.loads((tmp_path / "coco_output/annotations/instances_default.json").read_text())
    assert coco["images"][0]["file_name"] == "img.png"
    assert coco["images"][0]["width"] == 1920 and coco["images"][0]["height"] == 1080
    assert {c["name"] for c in coco["categories"]} == {"car", "road"}
    [box] = [a for a in coco["annotations"] if a["bbox"] == [100, 200, 50, 80]]
    assert box["area"] == 4000
    assert converter.convert(dm_v1_data, output_dir=str(tmp_path / "again"))["images"]
    copied = list((tmp_path / "coco_output").rglob("img.png"))
    assert len(copied) == 1 and copied[0].read_bytes() == b"png"


def test_manual_yolo_and_voc_functions_run_on_the_seed_data() -> None:
    # --- seed blocks "DM Schema v1 -> YOLO" and "-> Pascal VOC" (pure Python) ---
    def dm_to_yolo(annotations, image_width, image_height, class_map):
        lines = []
        for ann in annotations:
            if ann.get("type") != "bbox":
                continue
            x, y, w, h = ann["data"]
            class_id = class_map.get(ann["classification"], 0)
            x_center = (x + w / 2) / image_width
            y_center = (y + h / 2) / image_height
            norm_w = w / image_width
            norm_h = h / image_height
            lines.append(f"{class_id} {x_center:.6f} {y_center:.6f} {norm_w:.6f} {norm_h:.6f}")
        return lines

    def dm_to_voc_xml(annotations, image_info, filename):
        import xml.etree.ElementTree as ET

        root = ET.Element("annotation")
        ET.SubElement(root, "filename").text = filename
        size = ET.SubElement(root, "size")
        ET.SubElement(size, "width").text = str(image_info.get("width", 0))
        ET.SubElement(size, "height").text = str(image_info.get("height", 0))
        ET.SubElement(size, "depth").text = str(image_info.get("channels", 3))
        for ann in annotations:
            if ann.get("type") != "bbox":
                continue
            x, y, w, h = ann["data"]
            obj = ET.SubElement(root, "object")
            ET.SubElement(obj, "name").text = ann["classification"]
            bbox = ET.SubElement(obj, "bndbox")
            ET.SubElement(bbox, "xmin").text = str(int(x))
            ET.SubElement(bbox, "ymin").text = str(int(y))
            ET.SubElement(bbox, "xmax").text = str(int(x + w))
            ET.SubElement(bbox, "ymax").text = str(int(y + h))
        return ET.tostring(root, encoding="unicode")

    # --- end ---
    anns = DM_V1["annotations"]["image_1"]
    assert dm_to_yolo(anns, 1920, 1080, {"car": 0}) == ["0 0.065104 0.222222 0.026042 0.074074"]
    xml = ET.fromstring(dm_to_voc_xml(anns, {"width": 1920, "height": 1080}, "img.png"))
    assert xml.findtext("object/bndbox/xmax") == "150"


def test_listing_projects_through_the_sdk(env: SeedEmulator) -> None:
    """The seed lists projects with ``requests``; the SDK's own call gives the same fields."""
    from synapse_sync.compat import BackendClient

    env.run(env.emu.seed.project, "one")
    client = BackendClient(
        base_url=os.environ["SYNAPSE_HOST"], access_token=os.environ["SYNAPSE_ACCESS_TOKEN"]
    )
    projects: Any = client.list_projects()["results"]
    assert [(p["id"], p["name"]) for p in projects] == [(1, "one")]
