"""The workflow runtime starts and stops with the emulator, leaving no task behind."""

from __future__ import annotations

import asyncio
from pathlib import Path

import anyio
import pytest

from synapse_async.emulator import Emulator
from tests.helpers import make_client

pytestmark = pytest.mark.anyio


async def test_close_mid_work_cancels_everything(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    before = set(asyncio.all_tasks())
    emu = Emulator(annotation_speed=50, s3_root=tmp_path / "s3", webhook_retry_delay=3600)
    await emu.start()
    bucket = emu.workflow.s3_root / "big-bucket"
    bucket.mkdir(parents=True)
    for i in range(300):
        (bucket / f"{i}.jpg").write_bytes(b"x" * 1000)
    async with make_client(emu) as client:
        project = await client.projects.create("p", annotation_type="bounding_box", labels=["a"])
        await project.upload_tasks([{"n": i} for i in range(1000)])
        # a receiver that refuses connections: its delivery waits an hour before retrying
        await client.webhooks.create("http://127.0.0.1:9/x", ["project.started"], secret="12345678")
        await project.pay_deposit()
        other = await client.projects.create("q")
        await other.upload_from_s3("big-bucket", wait=False)
        await asyncio.sleep(0.2)
        assert 0 < (await project.get_status()).completed_tasks < 1000
        assert emu.workflow.dispatcher.busy
    # close cancels the waiting delivery rather than waiting out its hour (a hang guard,
    # not a speed check)
    with anyio.fail_after(120):
        await emu.close()
    await asyncio.sleep(0)
    assert set(asyncio.all_tasks()) - before == set()
    assert "Task was destroyed" not in caplog.text


async def test_restart_on_same_data_dir_keeps_workflow_state(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    async with Emulator(data_dir, annotation_speed=0) as emu, make_client(emu) as client:
        project = await client.projects.create("p")
        await project.upload_tasks([{"n": 1}, {"n": 2}])
        await project.pay_deposit()
        emu.workflow.simulator.complete(project.id, 1)
        pid = project.id
    async with Emulator(data_dir, annotation_speed=0) as emu, make_client(emu) as client:
        project = await client.projects.get(pid)
        status = await project.get_status()
        assert (status.state, status.completed_tasks) == ("active", 1)
        assert (await project.calculate_deposit()).paid
        emu.workflow.simulator.complete(pid, 5)
        assert await project.is_complete()
