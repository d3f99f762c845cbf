"""The project workflow handle against the emulator: every method, and its bad inputs."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from synapse_async import (
    AsyncClient,
    AsyncProjectHandle,
    ConflictError,
    Deposit,
    ImportFailedError,
    InsufficientCreditsError,
    InvalidInputError,
    NotFoundError,
    Project,
    ProjectStateError,
    ProjectStatus,
    ValidationError,
    WaitTimeoutError,
)
from synapse_async.emulator import Emulator

pytestmark = pytest.mark.anyio


async def make_project(client: AsyncClient, **fields: object) -> AsyncProjectHandle:
    fields.setdefault("annotation_type", "bounding_box")
    fields.setdefault("labels", ["car", "bus"])
    return await client.projects.create("Vehicles", **fields)  # type: ignore[arg-type]


async def test_create_returns_handle_with_typed_fields(manual_client: AsyncClient) -> None:
    project = await manual_client.projects.create(
        "Vehicles",
        annotation_type="bounding_box",
        data_type="image",
        labels=["car"],
        instructions="Tight boxes.",
        quality_settings={"min_annotators": 2},
        pricing_tier="premium",
        priority="high",
        metadata={"job_id": "j1"},
    )
    assert isinstance(project, AsyncProjectHandle) and isinstance(project.data, Project)
    assert (project.name, project.state, project.annotation_type, project.data_type) == (
        "Vehicles",
        "draft",
        "bounding_box",
        "image",
    )
    assert (project.instructions, project.pricing_tier, project.priority) == (
        "Tight boxes.",
        "premium",
        "high",
    )
    assert project.quality_settings == {"min_annotators": 2}
    assert project.metadata == {"job_id": "j1"} and project.labels == ["car"]
    assert project.description == "" and project.created and project.modified
    assert project.to_dict()["priority"] == "high"
    assert "Vehicles" in repr(project) and "draft" in repr(project)
    fetched = await manual_client.projects.get(project.id)
    assert fetched.data == project.data


async def test_create_bad_inputs(manual_client: AsyncClient) -> None:
    with pytest.raises(InvalidInputError, match="labels"):
        await manual_client.projects.create("p", labels="car")
    with pytest.raises(InvalidInputError, match="quality_settings"):
        await manual_client.projects.create("p", quality_settings=[1])  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="pricing_tier"):
        await manual_client.projects.create("p", pricing_tier="platinum")
    with pytest.raises(NotFoundError):
        await manual_client.projects.get(10**6)


async def test_upload_tasks_batches_and_moves_to_pending_deposit(
    manual_emu: Emulator, manual_client: AsyncClient
) -> None:
    project = await make_project(manual_client)
    before = manual_emu.counters["requests"]
    result = await project.upload_tasks([{"image_url": f"u{i}"} for i in range(2300)])
    assert manual_emu.counters["requests"] - before == 3
    assert (result.task_count, result.total_tasks, result.state) == (2300, 2300, "pending_deposit")
    assert len(result.task_ids) == 2300 and result.task_ids == sorted(result.task_ids)
    small = await project.upload_tasks([{"image_url": "x"}, {"image_url": "y"}], batch_size=1)
    assert (small.task_count, small.total_tasks) == (2, 2302)
    first = await manual_client.tasks.get(result.task_ids[0])
    assert first.data == {"image_url": "u0"} and first.project == project.id
    assert (await project.refresh()) is project and project.state == "pending_deposit"


@pytest.mark.parametrize(
    ("tasks", "match"),
    [
        ([], "empty"),
        ("abc", "list of dicts"),
        ({"a": 1}, "list of dicts"),
        ([{"ok": 1}, 5], "task #1"),
        ([{1: "x"}], "task #0"),
    ],
)
async def test_upload_tasks_bad_input(
    manual_client: AsyncClient, tasks: object, match: str
) -> None:
    project = await make_project(manual_client)
    with pytest.raises(InvalidInputError, match=match):
        await project.upload_tasks(tasks)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="batch_size"):
        await project.upload_tasks([{"a": 1}], batch_size=1001)


def make_bucket(root: Path, name: str, files: dict[str, bytes]) -> None:
    for key, content in files.items():
        path = root / name / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)


async def test_upload_from_s3_imports_matching_files(
    manual_emu: Emulator, manual_client: AsyncClient
) -> None:
    make_bucket(
        manual_emu.workflow.s3_root,
        "my-product-images",
        {
            "catalog/2025/a.jpg": b"a" * 10,
            "catalog/2025/sub/b.PNG": b"bb",
            "catalog/2025/notes.txt": b"skip",
            "catalog/2024/old.jpg": b"old",
            "top.jpg": b"t",
        },
    )
    project = await make_project(manual_client)
    job = await project.upload_from_s3(
        "my-product-images", "catalog/2025/", [".jpg", "png"], poll_interval=0.01
    )
    assert (job.status, job.task_count, job.file_count, job.error) == ("completed", 2, 2, None)
    assert job.is_finished and job.file_types == ["jpg", "png"] and job.finished
    assert (await project.get_import(job.id)) == job
    tasks = [t async for t in manual_client.tasks.list(project=project.id)]
    assert sorted(t.data["file_name"] for t in tasks if t.data) == [
        "catalog/2025/a.jpg",
        "catalog/2025/sub/b.PNG",
    ]
    data = next(t.data for t in tasks if t.data and t.data["file_name"].endswith("a.jpg"))
    assert data["source"] == "s3://my-product-images/catalog/2025/a.jpg"
    stored = await manual_client.data_files.get(data["data_file"])
    assert (stored.size, stored.filename) == (10, "a.jpg")
    assert (await project.refresh()).state == "pending_deposit"


async def test_upload_from_s3_no_wait_and_failures(
    manual_emu: Emulator, manual_client: AsyncClient
) -> None:
    make_bucket(manual_emu.workflow.s3_root, "bucket-one", {"x/1.jpg": b"1"})
    project = await make_project(manual_client)
    job = await project.upload_from_s3("bucket-one", wait=False)
    assert job.status in ("pending", "running", "completed")
    await manual_emu.workflow.settle()
    assert (await project.get_import(job.id)).task_count == 1
    with pytest.raises(ImportFailedError, match="no file under s3://bucket-one/y/") as exc:
        await project.upload_from_s3("bucket-one", "y/", ["jpg"], poll_interval=0.01)
    assert exc.value.job.status == "failed"
    with pytest.raises(ValidationError, match="does not exist"):
        await project.upload_from_s3("no-such-bucket")
    with pytest.raises(ValidationError, match="bucket"):
        await project.upload_from_s3("../etc")
    with pytest.raises(ValidationError, match="prefix"):
        await project.upload_from_s3("bucket-one", "../")
    with pytest.raises(NotFoundError):
        await project.get_import(10**6)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"bucket": ""}, "bucket"),
        ({"bucket": "b", "prefix": 5}, "prefix"),
        ({"bucket": "b", "file_types": "jpg"}, "file_types"),
        ({"bucket": "b", "file_types": ["a/b"]}, "invalid file type"),
        ({"bucket": "b", "poll_interval": 0}, "poll_interval"),
        ({"bucket": "b", "max_wait": -1}, "max_wait"),
    ],
)
async def test_upload_from_s3_bad_input(
    manual_client: AsyncClient, kwargs: dict[str, object], match: str
) -> None:
    project = await make_project(manual_client)
    with pytest.raises(InvalidInputError, match=match):
        await project.upload_from_s3(**kwargs)  # type: ignore[arg-type]


async def test_deposit_pricing_and_payment(
    manual_emu: Emulator, manual_client: AsyncClient
) -> None:
    project = await make_project(
        manual_client, pricing_tier="premium", quality_settings={"min_annotators": 3}
    )
    empty = await project.calculate_deposit()
    assert isinstance(empty, Deposit) and empty.amount == Decimal("0.00")
    with pytest.raises(ConflictError, match="no tasks"):
        await project.pay_deposit()
    await project.upload_tasks([{"n": i} for i in range(101)])
    deposit = await project.calculate_deposit()
    # 101 tasks x 0.25 x 3 annotators = 75.75; QA 15% = 11.3625 -> 11.36; fee 10% -> 7.58
    assert deposit.breakdown == {
        "annotation_cost": Decimal("75.75"),
        "quality_assurance": Decimal("11.36"),
        "platform_fee": Decimal("7.58"),
    }
    assert deposit.amount == sum(deposit.breakdown.values()) == Decimal("94.69")
    assert (deposit.currency, deposit.task_count, deposit.pricing_tier, deposit.paid) == (
        "USD",
        101,
        "premium",
        False,
    )
    assert deposit.price_per_task == Decimal("0.25")
    manual_emu.seed.balance("50.00")
    with pytest.raises(InsufficientCreditsError, match=r"94\.69 USD.*50\.00") as exc:
        await project.pay_deposit(payment_method="credits")
    assert exc.value.status_code == 402 and exc.value.body["required"] == "94.69"
    assert (await manual_client.billing.get_balance()).available == Decimal("50.00")
    manual_emu.seed.balance("100")
    payment = await project.pay_deposit(payment_method="credits")
    assert (payment.amount, payment.currency, payment.payment_method, payment.status) == (
        Decimal("94.69"),
        "USD",
        "credits",
        "succeeded",
    )
    balance = await manual_client.billing.get_balance()
    assert (balance.available, balance.reserved) == (Decimal("5.31"), Decimal("94.69"))
    assert (await project.refresh()).state == "active"
    assert (await project.calculate_deposit()).paid
    with pytest.raises(ConflictError, match="already paid"):
        await project.pay_deposit()
    with pytest.raises(ConflictError):
        await project.upload_tasks([{"late": True}])


async def test_pay_with_external_method_and_bad_method(manual_client: AsyncClient) -> None:
    project = await make_project(manual_client)
    await project.upload_tasks([{"n": 1}])
    with pytest.raises(InvalidInputError, match="payment_method"):
        await project.pay_deposit(payment_method=" ")
    with pytest.raises(ValidationError, match="payment_method"):
        await project.pay_deposit(payment_method="barter")
    payment = await project.pay_deposit(payment_method="razorpay")
    assert payment.payment_method == "razorpay"
    balance = await manual_client.billing.get_balance()
    assert balance.available == Decimal("1000.00") and balance.reserved == Decimal("0.00")


async def test_start_pause_rules(manual_emu: Emulator, manual_client: AsyncClient) -> None:
    project = await make_project(manual_client)
    with pytest.raises(ConflictError, match="no tasks"):
        await project.start()
    await project.upload_tasks([{"n": i} for i in range(4)])
    with pytest.raises(ConflictError, match="not paid"):
        await project.start()
    with pytest.raises(ConflictError, match="only an active"):
        await project.pause()
    await project.pay_deposit()
    started = await project.start()  # already active: a no-op
    assert started.state == "active" and project.state == "active"
    assert (await project.pause()).state == "paused" and project.state == "paused"
    assert (await project.pause()).state == "paused"
    assert manual_emu.workflow.simulator.complete(project.id, 10) == 0  # paused: no work
    assert (await project.start()).state == "active"
    assert manual_emu.workflow.simulator.complete(project.id, 10) == 4
    assert (await project.refresh()).state == "completed"
    with pytest.raises(ConflictError, match="completed"):
        await project.start()


async def test_status_and_is_complete(manual_emu: Emulator, manual_client: AsyncClient) -> None:
    project = await make_project(manual_client)
    status = await project.get_status()
    assert isinstance(status, ProjectStatus)
    assert (status.state, status.progress, status.total_tasks, status.is_complete) == (
        "draft",
        0.0,
        0,
        False,
    )
    assert status.estimated_completion is None
    await project.upload_tasks([{"n": i} for i in range(8)])
    await project.pay_deposit()
    manual_emu.workflow.simulator.complete(project.id, 2)
    status = await project.get_status()
    assert (status.completed_tasks, status.total_tasks, status.progress) == (2, 8, 25.0)
    assert 0.7 <= status.quality_metrics["average_agreement"] <= 1.0
    assert set(status.quality_metrics) == {"average_agreement", "honeypot_accuracy"}
    assert status.estimated_completion is None  # speed 0: no estimate
    assert not await project.is_complete()
    manual_emu.workflow.simulator.complete(project.id, 100)
    assert await project.is_complete()
    final = await project.get_status()
    assert (final.state, final.progress, final.is_complete) == ("completed", 100.0, True)
    assert final.estimated_completion is not None
    assert (await manual_client.billing.get_balance()).reserved == Decimal("0.00")


async def test_wait_for_completion_with_callback(fast_client: AsyncClient) -> None:
    project = await make_project(fast_client)
    await project.upload_tasks([{"n": i} for i in range(300)])
    await project.pay_deposit()
    seen: list[ProjectStatus] = []
    final = await project.wait_for_completion(poll_interval=0.02, callback=seen.append, max_wait=30)
    assert final.is_complete and final.completed_tasks == 300
    assert seen[-1] == final and len(seen) >= 2
    progress = [s.completed_tasks for s in seen]
    assert progress == sorted(progress)
    assignments = [a async for a in fast_client.assignments.list(project=project.id)]
    assert len(assignments) == 300 and {a.status for a in assignments} == {"completed"}


async def test_wait_for_completion_errors(manual_emu: Emulator, manual_client: AsyncClient) -> None:
    project = await make_project(manual_client)
    with pytest.raises(ProjectStateError, match="pay the deposit") as exc:
        await project.wait_for_completion(poll_interval=0.01)
    assert exc.value.state == "draft"
    await project.upload_tasks([{"n": 1}, {"n": 2}])
    await project.pay_deposit()
    calls: list[ProjectStatus] = []
    with pytest.raises(WaitTimeoutError, match="max_wait"):
        await project.wait_for_completion(poll_interval=0.02, max_wait=0.1, callback=calls.append)
    assert len(calls) >= 3  # polled until, and once at, the deadline
    manual_emu.store.update("projects", project.id, {"state": "cancelled"})
    with pytest.raises(ProjectStateError, match="cannot complete"):
        await project.wait_for_completion(poll_interval=0.01)
    for bad in (
        {"poll_interval": 0},
        {"poll_interval": float("nan")},
        {"poll_interval": True},
        {"max_wait": 0},
        {"callback": 5},
    ):
        with pytest.raises(InvalidInputError):
            await project.wait_for_completion(**bad)
    with pytest.raises(InvalidInputError, match="import_id"):
        await project.get_import(0)
