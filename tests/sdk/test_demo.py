import pytest

from synapse_async.demo import run_demo

pytestmark = pytest.mark.anyio


async def test_demo_lists_every_task(capsys: pytest.CaptureFixture[str]) -> None:
    figures = await run_demo(tasks=1200, latency_ms=10, page_size=50)
    assert figures["tasks"] == 1200
    assert figures["sequential_s"] > figures["concurrent_s"]
    out = capsys.readouterr().out
    assert "listed 1200 tasks" in out and "in server order: True" in out
