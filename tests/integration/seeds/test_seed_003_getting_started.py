"""Seed 003 (getting started, "Cynaps"): every code block, with ``import synapse_sync as
cynaps`` as the only change, runs against the emulator and prints what the seed shows.

Where the printed values are the server's own (ids, amounts, which label annotators chose),
the test checks their form and consistency instead of the seed's sample values.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import synapse_sync
from synapse_async import Secret
from tests.integration.seeds.conftest import SEED_TOKEN, SeedEmulator


def setting_up_the_client() -> dict[str, object]:
    # --- seed block "Setting Up the Client" ---------------------------------------------
    import synapse_sync as cynaps

    # Option 1: Pass API key directly
    client = cynaps.Client(api_key="sk_live_your_api_key_here")

    # Option 2: Use environment variable (recommended)
    import os

    os.environ["cynaps_API_KEY"] = "sk_live_your_api_key_here"
    client = cynaps.Client()  # Automatically reads from env

    # Option 3: Use a config file
    client = cynaps.Client.from_config("~/.cynaps/config.json")
    # --- end of seed block ---------------------------------------------------------------
    return {"client": client}


def quick_start() -> None:
    # --- seed block "Complete Example: Image Classification" ----------------------------
    import synapse_sync as cynaps
    import time

    # 1. Initialize client
    client = cynaps.Client(api_key="sk_live_xxxx")

    # 2. Create a project
    project = client.projects.create(
        name="Product Image Classification",
        annotation_type="classification",
        labels=["Electronics", "Clothing", "Home & Garden", "Sports", "Other"],
        instructions="Classify each product image into the most appropriate category.",
        quality_settings={
            "min_annotators": 3,  # Each image labeled by 3 annotators
            "consensus_threshold": 0.66,  # 2/3 agreement required
            "enable_expert_review": True,  # Expert reviews disputed items
        },
    )

    print(f"✓ Project created: {project.id}")

    # 3. Upload your data
    tasks = [
        {"image_url": "https://your-cdn.com/products/item1.jpg", "product_id": "SKU001"},
        {"image_url": "https://your-cdn.com/products/item2.jpg", "product_id": "SKU002"},
        {"image_url": "https://your-cdn.com/products/item3.jpg", "product_id": "SKU003"},
    ]

    upload_result = project.upload_tasks(tasks)
    print(f"✓ Uploaded {upload_result.task_count} tasks")

    # 4. Pay security deposit and start project
    deposit = project.calculate_deposit()
    print(f"Security deposit required: {deposit.amount} Credits")

    project.pay_deposit(payment_method="razorpay")  # or use stored payment method
    project.start()
    print("✓ Project started!")

    # 5. Monitor progress
    while True:
        status = project.get_status()
        print(f"Progress: {status.progress}% ({status.completed}/{status.total} tasks)")

        if status.is_complete:
            break

        time.sleep(3600)  # Check hourly

    # 6. Download results
    annotations = project.export(format="json")
    print(f"✓ Downloaded {len(annotations)} annotations")

    # 7. Use in your ML pipeline
    for annotation in annotations:
        image_url = annotation["data"]["image_url"]
        label = annotation["annotations"][0]["result"]["value"]
        product_id = annotation["data"]["product_id"]

        print(f"{product_id}: {label}")
    # --- end of seed block ---------------------------------------------------------------


LABELS = ["Electronics", "Clothing", "Home & Garden", "Sports", "Other"]


def test_setting_up_the_client(
    seed_emulator: SeedEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    (home / ".cynaps").mkdir(parents=True)
    (home / ".cynaps" / "config.json").write_text(
        json.dumps({"api_key": SEED_TOKEN, "base_url": seed_emulator.url})
    )
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("SYNAPSE_HOST")  # option 3 takes the URL from the file
    client = setting_up_the_client()["client"]
    assert isinstance(client, synapse_sync.Client)
    assert client.config.access_token == Secret(SEED_TOKEN)
    assert client.config.base_url == seed_emulator.url.rstrip("/") + "/"
    assert client.billing.get_balance().available > 0


def test_quick_start_prints_what_the_seed_shows(
    seed_emulator: SeedEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    quick_start()
    lines = capsys.readouterr().out.splitlines()
    assert re.fullmatch(r"✓ Project created: \d+", lines[0])
    assert lines[1] == "✓ Uploaded 3 tasks"
    assert re.fullmatch(r"Security deposit required: \d+\.\d\d Credits", lines[2])
    assert lines[3] == "✓ Project started!"
    progress = [line for line in lines if line.startswith("Progress:")]
    counts = [re.fullmatch(r"Progress: ([\d.]+)% \((\d)/3 tasks\)", p) for p in progress]
    assert all(counts), progress
    done = [int(m.group(2)) for m in counts if m]
    assert done[0] == 0 and done[-1] == 3 and done == sorted(done)
    # enable_expert_review: the project passes through review once every task is done
    assert done.count(3) >= 2
    assert lines[4 + len(progress)] == "✓ Downloaded 3 annotations"
    results = lines[5 + len(progress) :]
    assert [r.split(": ")[0] for r in results] == ["SKU001", "SKU002", "SKU003"]
    assert all(r.split(": ", 1)[1] in LABELS for r in results)


def test_common_issues_name_real_errors(seed_emulator: SeedEmulator) -> None:
    import synapse_sync as cynaps

    with pytest.raises(cynaps.errors.AuthenticationError):
        cynaps.Client(api_key="sk_live_wrong").billing.get_balance()
    assert issubclass(cynaps.errors.InsufficientCreditsError, cynaps.errors.APIError)
    assert issubclass(cynaps.errors.RateLimitError, cynaps.errors.APIError)
