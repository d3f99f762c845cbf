"""Seed 000 (end-to-end workflow examples): every code block, with ``import synapse_sync as
synapse`` as the only change to the SDK lines, runs against the emulator.

Adaptations, each marked ``ADAPTED`` where it happens:
- the webhook receiver URL: the seed's ``https://api.yourapp.com/...`` is a placeholder host;
  the test serves the seed's Flask view on loopback and subscribes that URL instead;
- ``notify_job_complete`` and ``update_progress`` are called but never defined by the seed:
  the test defines them (recording their calls);
- ``run_pipeline``'s sizes are the seed's; the S3 stand-in holds two images per batch prefix;
- the NER block's spaCy steps (``export(format="spacy")``, training) need the optional
  ``spacy`` extra: they run when spaCy is installed and are skipped otherwise.
scikit-learn, ultralytics and Flask are stand-ins (see ``conftest.py``); PyYAML is real.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import threading
import types
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.integration.seeds.conftest import SeedEmulator

IMAGE = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


def image_classification_pipeline() -> None:
    # --- seed block "Image Classification Pipeline" -------------------------------------
    import synapse_sync as synapse
    import json
    from pathlib import Path

    # Initialize client
    client = synapse.Client(api_key="sk_live_xxxx")

    # =============================================================================
    # STEP 1: Create Project
    # =============================================================================
    project = client.projects.create(
        name="Product Image Classification",
        annotation_type="classification",
        data_type="image",
        labels=[
            "Electronics",
            "Clothing",
            "Home & Kitchen",
            "Sports & Outdoors",
            "Books",
            "Toys & Games",
            "Other",
        ],
        instructions="""
        Classify each product image into the most appropriate category.

        Guidelines:
        - Choose the single best category
        - If a product could fit multiple categories, choose the primary use
        - Use "Other" only if none of the categories apply
        """,
        quality_settings={
            "min_annotators": 3,
            "consensus_threshold": 0.66,
            "honeypot_percentage": 5,
        },
        pricing_tier="standard",
    )

    print(f"Created project: {project.id}")

    # =============================================================================
    # STEP 2: Upload Data from S3
    # =============================================================================
    result = project.upload_from_s3(
        bucket="my-product-images", prefix="catalog/2025/", file_types=["jpg", "png", "webp"]
    )

    print(f"Uploaded {result.task_count} images")

    # =============================================================================
    # STEP 3: Calculate and Pay Deposit
    # =============================================================================
    deposit = project.calculate_deposit()
    print(f"Deposit required: {deposit.currency} {deposit.amount}")
    print(f"Breakdown:")
    print(f"  - Annotation cost: {deposit.breakdown['annotation_cost']}")
    print(f"  - Quality assurance: {deposit.breakdown['quality_assurance']}")
    print(f"  - Platform fee: {deposit.breakdown['platform_fee']}")

    # Pay with account credits
    payment = project.pay_deposit(payment_method="credits")
    print(f"Payment successful: {payment.id}")

    # =============================================================================
    # STEP 4: Monitor Progress
    # =============================================================================
    import time

    while not project.is_complete():
        status = project.get_status()
        print(f"Progress: {status.progress:.1f}% ({status.completed_tasks}/{status.total_tasks})")
        print(f"  - Quality score: {status.quality_metrics['average_agreement']:.2%}")
        print(f"  - Est. completion: {status.estimated_completion}")
        time.sleep(300)  # Check every 5 minutes

    print("Project complete!")

    # =============================================================================
    # STEP 5: Export Annotations
    # =============================================================================
    annotations = project.export(format="json")

    # Save to file
    with open("annotations.json", "w") as f:
        json.dump(annotations, f, indent=2)

    print(f"Exported {len(annotations)} annotations")

    # =============================================================================
    # STEP 6: Prepare for Training
    # =============================================================================
    from sklearn.model_selection import train_test_split

    # Convert to training format
    data = []
    for annotation in annotations:
        data.append(
            {
                "image_path": annotation["task"]["data"]["image_url"],
                "label": annotation["result"]["classification"]["label"],
                "confidence": annotation["result"]["classification"]["confidence"],
            }
        )

    # Split into train/val/test
    train_data, temp_data = train_test_split(data, test_size=0.3, random_state=42)
    val_data, test_data = train_test_split(temp_data, test_size=0.5, random_state=42)

    print(f"Training set: {len(train_data)}")
    print(f"Validation set: {len(val_data)}")
    print(f"Test set: {len(test_data)}")
    # --- end of seed block ---------------------------------------------------------------


def object_detection_for_yolo() -> None:
    # --- seed block "Object Detection for YOLO Training" --------------------------------
    import synapse_sync as synapse
    from pathlib import Path
    import yaml

    client = synapse.Client(api_key="sk_live_xxxx")

    # =============================================================================
    # STEP 1: Create Object Detection Project
    # =============================================================================
    project = client.projects.create(
        name="Vehicle Detection Dataset",
        annotation_type="bounding_box",
        data_type="image",
        labels=["car", "truck", "motorcycle", "bicycle", "bus", "pedestrian"],
        instructions="""
        Draw tight bounding boxes around all vehicles and pedestrians.
        """,
        quality_settings={
            "min_annotators": 3,
            "consensus_threshold": 0.7,
            "enable_expert_review": True,
            "iou_threshold": 0.5,  # For bounding box consensus
        },
        pricing_tier="premium",
        priority="high",
    )

    # =============================================================================
    # STEP 2: Upload Training Images
    # =============================================================================
    # Option A: From S3
    result = project.upload_from_s3(
        bucket="autonomous-driving-data", prefix="frames/highway/", file_types=["jpg", "png"]
    )

    print(f"Uploaded {result.task_count} images")

    # =============================================================================
    # STEP 3: Pay and Start
    # =============================================================================
    deposit = project.calculate_deposit()
    project.pay_deposit(payment_method="credits")

    # Wait for completion with progress callback
    def progress_callback(status):
        print(f"[{status.progress:.1f}%] {status.completed_tasks}/{status.total_tasks} tasks")
        print(f"  IoU score: {status.quality_metrics.get('average_iou', 'N/A')}")

    project.wait_for_completion(poll_interval=600, callback=progress_callback)

    # =============================================================================
    # STEP 4: Export in YOLO Format
    # =============================================================================
    yolo_export = project.export(format="yolo")

    # Create YOLO dataset structure
    output_dir = Path("datasets/vehicle_detection")
    output_dir.mkdir(parents=True, exist_ok=True)

    # Move files to proper structure
    import shutil

    shutil.copytree(yolo_export["images_dir"], output_dir / "images")
    shutil.copytree(yolo_export["labels_dir"], output_dir / "labels")

    # Create data.yaml for YOLOv8
    data_yaml = {
        "path": str(output_dir.absolute()),
        "train": "images/train",
        "val": "images/val",
        "test": "images/test",
        "names": {i: name for i, name in enumerate(yolo_export["classes"])},
    }

    with open(output_dir / "data.yaml", "w") as f:
        yaml.dump(data_yaml, f)

    # =============================================================================
    # STEP 5: Train YOLOv8
    # =============================================================================
    from ultralytics import YOLO

    model = YOLO("yolov8n.pt")  # Load pretrained model

    results = model.train(
        data=str(output_dir / "data.yaml"), epochs=100, imgsz=640, batch=16, device=0
    )

    print(f"Training complete! mAP50: {results.results_dict['metrics/mAP50(B)']:.3f}")
    # --- end of seed block ---------------------------------------------------------------


def named_entity_recognition(with_spacy: bool) -> list[Any]:
    # --- seed block "Named Entity Recognition (NER)" ------------------------------------
    import synapse_sync as synapse
    import json

    client = synapse.Client(api_key="sk_live_xxxx")

    # STEP 1: Create NER Project
    project = client.projects.create(
        name="Legal Document NER",
        annotation_type="ner",
        data_type="text",
        labels=[
            "PERSON",
            "ORGANIZATION",
            "DATE",
            "MONEY",
            "LOCATION",
            "CASE_NUMBER",
            "COURT",
            "STATUTE",
        ],
        instructions="""
        Identify and label named entities in legal documents.
        """,
        quality_settings={
            "min_annotators": 2,
            "consensus_threshold": 0.8,
            "enable_expert_review": True,
        },
    )

    # STEP 2: Upload Text Documents
    documents = [
        {
            "text": """On January 15, 2024, in the United States District Court
            for the Southern District of New York, Case No. 1:24-cv-00123,
            Judge Sarah Thompson ruled that Acme Corporation must pay
            $2.5 million in damages to John Smith...""",
            "metadata": {"source": "court_filing", "doc_id": "doc_001"},
        },
        # ... more documents
    ]

    result = project.upload_tasks(documents)
    print(f"Uploaded {result.task_count} documents")

    # STEP 3: Pay and Monitor
    project.pay_deposit(payment_method="credits")
    project.wait_for_completion()

    # STEP 4: Export in spaCy Format
    if with_spacy:  # ADAPTED: needs the optional spacy extra
        spacy_data = project.export(format="spacy")

        # Save training data
        with open("ner_training_data.spacy", "wb") as f:
            f.write(spacy_data)

    # Or get as JSON for custom processing
    json_data = project.export(format="json")

    # Convert to spaCy training format manually if needed
    training_data = []
    for item in json_data:
        text = item["task"]["data"]["text"]
        entities = []
        for entity in item["result"]["entities"]:
            entities.append((entity["start"], entity["end"], entity["label"]))
        training_data.append((text, {"entities": entities}))

    # STEP 5: Train spaCy Model
    if with_spacy:  # ADAPTED: needs the optional spacy extra
        import spacy
        from spacy.training import Example

        nlp = spacy.blank("en")
        ner = nlp.add_pipe("ner")

        # Add labels
        for label in [
            "PERSON",
            "ORGANIZATION",
            "DATE",
            "MONEY",
            "LOCATION",
            "CASE_NUMBER",
            "COURT",
            "STATUTE",
        ]:
            ner.add_label(label)

        # Train
        optimizer = nlp.begin_training()
        for epoch in range(2):  # ADAPTED: the seed's 30 epochs, cut to keep the test short
            losses = {}
            for text, annotations in training_data:
                doc = nlp.make_doc(text)
                example = Example.from_dict(doc, annotations)
                nlp.update([example], losses=losses, sgd=optimizer)
            print(f"Epoch {epoch}: {losses}")

        nlp.to_disk("legal_ner_model")
    # --- end of seed block ---------------------------------------------------------------
    return training_data


def video_annotation_pipeline() -> Any:
    # --- seed block "Video Annotation Pipeline" -----------------------------------------
    import synapse_sync as synapse

    client = synapse.Client(api_key="sk_live_xxxx")

    # STEP 1: Create Video Annotation Project
    project = client.projects.create(
        name="Sports Action Recognition",
        annotation_type=["classification", "keypoint"],
        data_type="video",
        labels={
            "classification": [
                "running",
                "jumping",
                "throwing",
                "catching",
                "kicking",
                "hitting",
                "swimming",
                "climbing",
            ],
            "keypoint": [
                "head",
                "neck",
                "left_shoulder",
                "right_shoulder",
                "left_elbow",
                "right_elbow",
                "left_wrist",
                "right_wrist",
                "left_hip",
                "right_hip",
                "left_knee",
                "right_knee",
                "left_ankle",
                "right_ankle",
            ],
        },
        instructions="""
        For each video clip:
        1. Classify the primary action being performed
        2. Mark keypoints on the athlete's body in key frames
        """,
        quality_settings={
            "min_annotators": 2,
            "frame_sampling_rate": 10,  # Annotate every 10th frame
        },
        pricing_tier="premium",  # Video annotation costs more
    )

    # STEP 2: Upload Videos
    result = project.upload_from_s3(
        bucket="sports-videos", prefix="clips/basketball/", file_types=["mp4", "avi", "mov"]
    )

    # STEP 3: Complete workflow
    project.pay_deposit(payment_method="credits")
    project.wait_for_completion()

    # Export in JSON format for video annotations
    annotations = project.export(format="json")
    # --- end of seed block ---------------------------------------------------------------
    return project, annotations


# -- the Flask stand-in and a loopback server for the webhook block ------------------------


class _Request:
    """Flask's ``request``, as the seed's views read it."""

    def __init__(self) -> None:
        self.body = b""
        self.headers: dict[str, str] = {}

    def get_data(self) -> bytes:
        return self.body

    @property
    def json(self) -> Any:
        return json.loads(self.body)


class _Flask:
    def __init__(self, name: str) -> None:
        self.views: dict[str, Callable[[], Any]] = {}

    def route(self, path: str, methods: list[str] | None = None) -> Callable[[Any], Any]:
        def register(view: Callable[[], Any]) -> Callable[[], Any]:
            self.views[path] = view
            return view

        return register

    def run(self, port: int) -> None:
        raise AssertionError("the seed runs its app only as __main__")


def _flask_module() -> types.ModuleType:
    module = types.ModuleType("flask")
    module.Flask = _Flask  # type: ignore[attr-defined]
    module.request = _Request()  # type: ignore[attr-defined]
    module.jsonify = lambda obj: obj  # type: ignore[attr-defined]
    return module


def async_workflow_with_webhooks(receiver_url: str, calls: dict[str, list[Any]]) -> Any:
    # ADAPTED: called by the seed, never defined there
    def notify_job_complete(job_id, annotations):
        calls["notify"].append((job_id, annotations))

    def update_progress(project_id, completed, total):
        calls["progress"].append((project_id, completed, total))

    # --- seed block "Async Workflow with Webhooks" --------------------------------------
    import synapse_sync as synapse
    from flask import Flask, request, jsonify
    import hmac
    import hashlib

    app = Flask(__name__)
    client = synapse.Client(api_key="sk_live_xxxx")

    WEBHOOK_SECRET = "whsec_xxxxxxxxxxxx"

    # STEP 1: Create Project and Setup Webhook
    def create_annotation_job(images: list, job_id: str):
        """Create annotation project and return immediately."""

        # Create project
        project = client.projects.create(
            name=f"Annotation Job {job_id}",
            annotation_type="classification",
            labels=["positive", "negative", "neutral"],
            metadata={"job_id": job_id},  # Store reference
        )

        # Upload tasks
        tasks = [{"image_url": url, "job_id": job_id} for url in images]
        project.upload_tasks(tasks)

        # Setup webhook for this project
        client.webhooks.create(
            url=receiver_url,  # ADAPTED: "https://api.yourapp.com/webhooks/synapse"
            events=["project.completed", "task.completed"],
            project_id=project.id,
            secret=WEBHOOK_SECRET,
        )

        # Pay and start
        project.pay_deposit(payment_method="credits")

        # Return immediately - webhook will notify on completion
        return {
            "project_id": project.id,
            "job_id": job_id,
            "status": "processing",
            "task_count": len(images),
        }

    # STEP 2: Webhook Handler
    @app.route("/webhooks/synapse", methods=["POST"])
    def handle_webhook():
        # Verify signature
        payload = request.get_data()
        signature = request.headers.get("X-Synapse-Signature")

        expected_sig = hmac.new(WEBHOOK_SECRET.encode(), payload, hashlib.sha256).hexdigest()

        if not hmac.compare_digest(signature, expected_sig):
            return jsonify({"error": "Invalid signature"}), 401

        event = request.json

        if event["type"] == "project.completed":
            handle_project_completed(event["data"])
        elif event["type"] == "task.completed":
            handle_task_completed(event["data"])

        return jsonify({"received": True})

    def handle_project_completed(data):
        """Called when entire project is done."""
        project_id = data["project_id"]
        job_id = data.get("metadata", {}).get("job_id")

        # Get project and export
        project = client.projects.get(project_id)
        annotations = project.export(format="json")

        # Export to S3
        project.export_to_s3(
            bucket="ml-training-data", key=f"annotations/{job_id}/results.json", format="json"
        )

        # Notify your system
        notify_job_complete(job_id, annotations)

    def handle_task_completed(data):
        """Called for each completed task (real-time updates)."""
        # Update progress in your database
        update_progress(
            project_id=data["project_id"],
            completed=data["completed_count"],
            total=data["total_count"],
        )

    # STEP 3: API Endpoint to Start Jobs
    @app.route("/api/annotate", methods=["POST"])
    def start_annotation():
        data = request.json
        images = data["images"]
        job_id = data["job_id"]

        result = create_annotation_job(images, job_id)

        return jsonify(result)

    if __name__ == "__main__":
        app.run(port=5000)
    # --- end of seed block ---------------------------------------------------------------
    return app, request


def high_volume_pipeline() -> None:
    # --- seed block "High-Volume Production Pipeline" -----------------------------------
    import synapse_sync as synapse
    from concurrent.futures import ThreadPoolExecutor
    import logging

    logging.basicConfig(level=logging.INFO)
    logger = logging.getLogger(__name__)

    client = synapse.Client(api_key="sk_live_xxxx", timeout=120, max_retries=5)

    # STEP 1: Batch Project Creation
    def create_batch_projects(dataset_name: str, total_images: int, batch_size: int = 10000):
        """Split large datasets into manageable project batches."""

        projects = []
        num_batches = (total_images + batch_size - 1) // batch_size

        for i in range(num_batches):
            project = client.projects.create(
                name=f"{dataset_name} - Batch {i + 1}/{num_batches}",
                annotation_type="bounding_box",
                labels=["object_class_1", "object_class_2"],
                metadata={"dataset": dataset_name, "batch": i + 1, "total_batches": num_batches},
                priority="normal" if i > 0 else "high",  # First batch high priority
            )
            projects.append(project)
            logger.info(f"Created project {project.id} for batch {i + 1}")

        return projects

    # STEP 2: Parallel Upload
    def upload_to_project(project, s3_prefix):
        """Upload data to a single project."""
        try:
            result = project.upload_from_s3(
                bucket="massive-dataset", prefix=s3_prefix, file_types=["jpg"]
            )
            logger.info(f"Uploaded {result.task_count} to {project.id}")
            return result
        except Exception as e:
            logger.error(f"Upload failed for {project.id}: {e}")
            raise

    def parallel_upload(projects, s3_prefixes):
        """Upload to multiple projects in parallel."""
        with ThreadPoolExecutor(max_workers=5) as executor:
            futures = [
                executor.submit(upload_to_project, proj, prefix)
                for proj, prefix in zip(projects, s3_prefixes)
            ]
            results = [f.result() for f in futures]
        return results

    # STEP 3: Bulk Payment
    def pay_all_projects(projects):
        """Pay deposits for all projects using credits."""
        total_cost = 0

        for project in projects:
            deposit = project.calculate_deposit()
            total_cost += deposit.amount

        logger.info(f"Total deposit required: {total_cost}")

        # Check balance
        balance = client.billing.get_balance()
        if balance.available < total_cost:
            raise ValueError(f"Insufficient credits: {balance.available} < {total_cost}")

        # Pay all deposits
        for project in projects:
            project.pay_deposit(payment_method="credits")
            logger.info(f"Paid deposit for {project.id}")

    # STEP 4: Aggregate Monitoring
    def monitor_all_projects(projects, poll_interval=300):
        """Monitor progress across all projects."""
        import time

        while True:
            all_complete = True
            total_tasks = 0
            completed_tasks = 0

            for project in projects:
                status = project.get_status()
                total_tasks += status.total_tasks
                completed_tasks += status.completed_tasks

                if not status.is_complete:
                    all_complete = False

            progress = (completed_tasks / total_tasks * 100) if total_tasks > 0 else 0
            logger.info(f"Overall progress: {progress:.1f}% ({completed_tasks}/{total_tasks})")

            if all_complete:
                logger.info("All projects complete!")
                break

            time.sleep(poll_interval)

    # STEP 5: Aggregate Export
    def export_all_projects(projects, output_bucket, format="coco"):
        """Export and merge all project annotations."""

        all_annotations = []

        for project in projects:
            # Export each project to S3
            batch_num = project.metadata.get("batch", "unknown")

            project.export_to_s3(
                bucket=output_bucket, key=f"annotations/batch_{batch_num}.json", format=format
            )

            # Also collect for merging
            annotations = project.export(format="json")
            all_annotations.extend(annotations)

        logger.info(f"Exported {len(all_annotations)} total annotations")
        return all_annotations

    # MAIN PIPELINE
    def run_pipeline():
        # Configuration
        DATASET_NAME = "autonomous_driving_v2"
        TOTAL_IMAGES = 100_000
        BATCH_SIZE = 10_000

        # S3 prefixes for each batch
        s3_prefixes = [f"images/batch_{i}/" for i in range(TOTAL_IMAGES // BATCH_SIZE)]

        # Execute pipeline
        logger.info("Creating projects...")
        projects = create_batch_projects(DATASET_NAME, TOTAL_IMAGES, BATCH_SIZE)

        logger.info("Uploading data...")
        parallel_upload(projects, s3_prefixes)

        logger.info("Processing payments...")
        pay_all_projects(projects)

        logger.info("Monitoring progress...")
        monitor_all_projects(projects)

        logger.info("Exporting annotations...")
        export_all_projects(projects, "ml-training-output")

        logger.info("Pipeline complete!")

    run_pipeline()  # the seed's `if __name__ == "__main__": run_pipeline()`
    # --- end of seed block ---------------------------------------------------------------


# -- the tests -----------------------------------------------------------------------------


def test_image_classification_pipeline(
    seed_emulator: SeedEmulator, third_party: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    seed_emulator.bucket(
        "my-product-images",
        {
            "catalog/2025/a.jpg": IMAGE,
            "catalog/2025/b.png": IMAGE,
            "catalog/2025/c.webp": IMAGE,
            "catalog/2025/d.jpg": IMAGE,
            "catalog/2025/notes.txt": b"skip",
            "other/e.jpg": IMAGE,
        },
    )
    image_classification_pipeline()
    out = capsys.readouterr().out
    assert re.search(r"^Created project: \d+$", out, re.M)
    assert "Uploaded 4 images\n" in out
    assert re.search(r"^Deposit required: USD \d+\.\d\d$", out, re.M)
    for part in ("Annotation cost", "Quality assurance", "Platform fee"):
        assert re.search(rf"^  - {part}: \d+\.\d\d$", out, re.M)
    assert re.search(r"^Payment successful: \d+$", out, re.M)
    assert "Progress: 0.0% (0/4)" in out and "Project complete!\n" in out
    assert re.search(r"^  - Quality score: \d+\.\d\d%$", out, re.M)
    assert "Exported 4 annotations\n" in out
    assert out.endswith("Training set: 3\nValidation set: 1\nTest set: 0\n")
    saved = json.loads(Path("annotations.json").read_text())
    assert len(saved) == 4
    labels = {
        "Electronics",
        "Clothing",
        "Home & Kitchen",
        "Sports & Outdoors",
        "Books",
        "Toys & Games",
        "Other",
    }
    for record in saved:
        assert record["task"]["data"]["image_url"] == record["data"]["image_url"]
        assert record["data"]["image_url"].startswith(seed_emulator.url)
        assert record["result"]["classification"]["label"] in labels
        assert 0 < record["result"]["classification"]["confidence"] <= 1
        assert "annotations" in record["dm_schema_v1"]


def test_object_detection_for_yolo(
    seed_emulator: SeedEmulator, third_party: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    seed_emulator.bucket(
        "autonomous-driving-data", {f"frames/highway/{n:03}.jpg": IMAGE for n in range(10)}
    )
    object_detection_for_yolo()
    out = capsys.readouterr().out
    assert "Uploaded 10 images\n" in out
    assert "[100.0%] 10/10 tasks" in out and "IoU score: N/A" in out
    assert "Training complete! mAP50: 0.500" in out
    root = Path("datasets/vehicle_detection")
    images = sorted(p for p in (root / "images").rglob("*") if p.is_file())
    labels = sorted(p for p in (root / "labels").rglob("*.txt"))
    assert len(images) == 10 and len(labels) == 10  # include_files is on by default
    assert all(p.read_bytes() == IMAGE for p in images)
    import yaml

    data_yaml = yaml.safe_load((root / "data.yaml").read_text())
    assert data_yaml["names"] == {
        0: "car",
        1: "truck",
        2: "motorcycle",
        3: "bicycle",
        4: "bus",
        5: "pedestrian",
    }
    assert third_party["YOLO"].trained[0]["data"] == str(root / "data.yaml")


# The seed's own training code calls spaCy's deprecated ``nlp.begin_training()``; it runs as
# written, so its deprecation warning is expected here and says nothing about the SDK.
@pytest.mark.filterwarnings("ignore:.*begin_training:DeprecationWarning")
def test_named_entity_recognition(
    seed_emulator: SeedEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        import spacy  # noqa: F401

        with_spacy = True
    except ImportError:
        with_spacy = False
    training_data = named_entity_recognition(with_spacy)
    assert "Uploaded 1 documents\n" in capsys.readouterr().out
    [(text, annotations)] = training_data
    assert text.startswith("On January 15, 2024")
    assert annotations["entities"]
    for start, end, label in annotations["entities"]:
        assert 0 <= start < end <= len(text) and text[start:end].strip()
        assert label in (
            "PERSON",
            "ORGANIZATION",
            "DATE",
            "MONEY",
            "LOCATION",
            "CASE_NUMBER",
            "COURT",
            "STATUTE",
        )
    if with_spacy:
        assert Path("ner_training_data.spacy").stat().st_size > 0


def test_video_annotation_pipeline(seed_emulator: SeedEmulator) -> None:
    seed_emulator.bucket(
        "sports-videos",
        {
            "clips/basketball/a.mp4": b"v1",
            "clips/basketball/b.mov": b"v2",
            "clips/basketball/c.mkv": b"skip",
        },
    )
    project, annotations = video_annotation_pipeline()
    assert project.labels["keypoint"][0] == "head"  # the label lists were kept
    assert project.annotation_type == ["classification", "keypoint"]
    assert len(annotations) == 2
    for record in annotations:
        assert record["video_url"].startswith(seed_emulator.url)
        assert record["duration"] == 10.5 and record["fps"] == 30
        assert record["classification"]["label"] in (
            "running",
            "jumping",
            "throwing",
            "catching",
            "kicking",
            "hitting",
            "swimming",
            "climbing",
        )
        assert list(record["keypoints"]) == ["frame_0", "frame_10", "frame_20"]
        assert len(record["keypoints"]["frame_10"]) == 14
        assert set(record["keypoints"]["frame_0"]["head"]) == {"x", "y", "visible"}


def test_video_labels_for_an_unknown_type_are_refused(seed_emulator: SeedEmulator) -> None:
    import synapse_sync as synapse
    from synapse_async import InvalidInputError

    client = synapse.Client(api_key="sk_live_xxxx")
    with pytest.raises(InvalidInputError, match="polygon"):
        client.projects.create(
            "x",
            annotation_type=["classification"],
            labels={"classification": ["a"], "polygon": ["b"]},
        )


def test_async_workflow_with_webhooks(
    seed_emulator: SeedEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    flask = _flask_module()
    monkeypatch.setitem(__import__("sys").modules, "flask", flask)
    seed_emulator.bucket("ml-training-data", {})
    calls: dict[str, list[Any]] = {"notify": [], "progress": []}
    finished = threading.Event()
    lock = threading.Lock()
    box: dict[str, Any] = {}
    statuses: list[int] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with lock:  # the seed's view reads one global request
                request = box["request"]
                request.body, request.headers = body, dict(self.headers)
                answer = box["app"].views[self.path]()
            status = answer[1] if isinstance(answer, tuple) else 200
            statuses.append(status)
            self.send_response(status)
            self.end_headers()
            if calls["notify"]:
                finished.set()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/webhooks/synapse"
        box["app"], box["request"] = async_workflow_with_webhooks(url, calls)
        request = box["request"]
        request.body = json.dumps(
            {
                "images": ["https://cdn.example/1.jpg", "https://cdn.example/2.jpg"],
                "job_id": "job-7",
            }
        ).encode()
        started = box["app"].views["/api/annotate"]()
        assert started["status"] == "processing" and started["task_count"] == 2
        for _ in range(3):
            seed_emulator.step()
        assert finished.wait(30), "project.completed was not handled"
        [(job_id, annotations)] = calls["notify"]
        assert job_id == "job-7" and len(annotations) == 2
        assert [a["data"]["job_id"] for a in annotations] == ["job-7", "job-7"]
        pid = started["project_id"]
        assert [(p, c, t) for p, c, t in calls["progress"]] == [(pid, 1, 2), (pid, 2, 2)]
        exported = seed_emulator.s3_root / "ml-training-data/annotations/job-7/results.json"
        assert len(json.loads(exported.read_text())) == 2
        # A forged delivery is refused by the seed's own check
        import urllib.request

        forged = urllib.request.Request(
            url, data=b'{"type": "project.completed"}', headers={"X-Synapse-Signature": "0" * 64}
        )
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(forged, timeout=10)
        assert info.value.code == 401
        assert hmac.compare_digest(
            hmac.new(b"whsec_xxxxxxxxxxxx", b"x", hashlib.sha256).hexdigest(),
            hmac.new(b"whsec_xxxxxxxxxxxx", b"x", hashlib.sha256).hexdigest(),
        )
    finally:
        server.shutdown()
        server.server_close()


def test_high_volume_production_pipeline(
    seed_emulator: SeedEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    seed_emulator.bucket(
        "massive-dataset", {f"images/batch_{i}/{n}.jpg": IMAGE for i in range(10) for n in range(2)}
    )
    seed_emulator.bucket("ml-training-output", {})
    caplog.set_level(logging.INFO)
    high_volume_pipeline()
    messages = [r.getMessage() for r in caplog.records if r.name == __name__]
    assert sum(m.startswith("Created project") for m in messages) == 10
    assert sum(re.fullmatch(r"Uploaded 2 to \d+", m) is not None for m in messages) == 10
    assert sum(m.startswith("Paid deposit for") for m in messages) == 10
    assert "All projects complete!" in messages
    assert "Overall progress: 100.0% (20/20)" in messages
    assert "Exported 20 total annotations" in messages and messages[-1] == "Pipeline complete!"
    out = seed_emulator.s3_root / "ml-training-output" / "annotations"
    assert sorted(p.name for p in out.iterdir()) == sorted(f"batch_{i}.json" for i in range(1, 11))
    coco = json.loads((out / "batch_1.json").read_text())
    assert coco["annotations"] and {c["name"] for c in coco["categories"]} <= {
        "object_class_1",
        "object_class_2",
    }
