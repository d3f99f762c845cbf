"""The managed-annotation workflow end to end, as the seeds show it.

Create a project, upload tasks, check and pay the deposit, start, wait with a progress
callback, then export the annotations as JSON (written atomically).

    python docs/examples/managed_project.py --out annotations.json

By default it runs against an embedded emulator (annotating 200 tasks a second). With
``--remote`` it uses the real service named by ``SYNAPSE_HOST`` / ``SYNAPSE_ACCESS_TOKEN``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from synapse_async import AsyncClient, ProjectStatus
from synapse_async.emulator import Emulator

LABELS = ["Electronics", "Clothing", "Home & Kitchen", "Sports & Outdoors", "Other"]


def write_json_atomic(path: Path, data: Any) -> None:
    """Write ``data`` as JSON to ``path``: a temp file in the same directory, then a rename.

    A crash never leaves a half-written file under ``path``.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2, ensure_ascii=False)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def print_progress(status: ProjectStatus) -> None:
    """The progress callback: one line per poll."""
    agreement = status.quality_metrics.get("average_agreement", 0.0)
    print(
        f"Progress: {status.progress:.1f}% ({status.completed_tasks}/{status.total_tasks})"
        f"  agreement {agreement:.2%}  state {status.state}"
    )


async def run_workflow(
    client: AsyncClient, out: Path, *, n_tasks: int = 50, poll_interval: float = 0.2
) -> dict[str, Any]:
    """Run the flow; returns a summary (project id, counts, deposit, output path)."""
    # 1. Create the project (a workflow handle: fields plus workflow methods).
    project = await client.projects.create(
        "Product Image Classification",
        annotation_type="classification",
        data_type="image",
        labels=LABELS,
        instructions="Classify each product image into the most appropriate category.",
        quality_settings={"min_annotators": 3, "consensus_threshold": 0.66},
        pricing_tier="standard",
    )
    print(f"Created project {project.id} ({project.state})")

    # 2. Upload tasks (batched by the SDK).
    tasks = [
        {"image_url": f"https://cdn.example.com/products/{i}.jpg", "product_id": f"SKU{i:04d}"}
        for i in range(n_tasks)
    ]
    upload = await project.upload_tasks(tasks)
    print(f"Uploaded {upload.task_count} tasks")

    # 3. Check the balance, then pay the deposit (the project becomes active).
    deposit = await project.calculate_deposit()
    print(
        f"Deposit required: {deposit.currency} {deposit.amount} "
        f"(annotation {deposit.breakdown['annotation_cost']}, "
        f"QA {deposit.breakdown['quality_assurance']}, "
        f"fee {deposit.breakdown['platform_fee']})"
    )
    balance = await client.billing.get_balance()
    if balance.available < deposit.amount:
        raise SystemExit(f"Insufficient credits: {balance.available} < {deposit.amount}")
    payment = await project.pay_deposit(payment_method="credits")
    print(f"Payment {payment.id}: {payment.amount} {payment.currency}")
    await project.start()  # already active after the payment: a no-op, as in the seeds

    # 4. Wait for completion, printing progress on every poll.
    final = await project.wait_for_completion(
        poll_interval=poll_interval, callback=print_progress, max_wait=600
    )
    print(f"Project complete: {final.completed_tasks} tasks")

    # 5. Export the annotations (DM schema v1 documents) as one JSON file.
    annotations = [
        {"assignment": a.id, "task": a.task, "status": a.status, "data": a.data, "file": a.file}
        async for a in client.assignments.list(project=project.id)
    ]
    write_json_atomic(out, annotations)
    print(f"Exported {len(annotations)} annotations to {out}")
    return {
        "project": project.id,
        "tasks": upload.task_count,
        "annotations": len(annotations),
        "deposit": str(deposit.amount),
        "final": final,
        "out": str(out),
    }


async def main(argv: list[str] | None = None) -> int:
    """Parse the options and run against the emulator (or the remote service)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("annotations.json"))
    parser.add_argument("--tasks", type=int, default=50)
    parser.add_argument("--remote", action="store_true", help="use SYNAPSE_HOST, not an emulator")
    args = parser.parse_args(argv)
    if args.remote:
        async with AsyncClient() as client:
            await run_workflow(client, args.out, n_tasks=args.tasks, poll_interval=60)
        return 0
    async with (
        Emulator(annotation_speed=200) as emu,
        AsyncClient(emu.url, access_token=emu.access_token) as client,
    ):
        await run_workflow(client, args.out, n_tasks=args.tasks)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
