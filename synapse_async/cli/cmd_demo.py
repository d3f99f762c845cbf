"""``synapse demo``: the main job end to end on an embedded emulator, with progress bars.

Creates a data collection, bulk-uploads a generated dataset (small PNG images plus one large
file), creates a project with one task per data unit, lists the tasks concurrently, pays the
deposit and lets the emulator's annotation simulator complete the work, exports COCO, and
prints a summary table with the time of each step.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import anyio.to_thread
import attrs
import click
from rich.table import Table

from synapse_async import AsyncClient, ProjectStatus
from synapse_async import _constants as C
from synapse_async.cli._dataset import make_dataset
from synapse_async.cli._progress import count_progress, megabytes
from synapse_async.cli._runtime import err_console, out_console, run
from synapse_async.cli.cmd_upload import upload_with_progress
from synapse_async.emulator import Emulator, Faults

__all__ = ["DemoResult", "demo", "run_demo"]

FILE_SPECIFICATIONS = [
    {"name": "image_1", "file_type": "image", "is_required": False, "extensions": [".png"]},
    {"name": "video_1", "file_type": "video", "is_required": False, "extensions": [".mp4"]},
]
"""The demo collection's slots: a data unit holds an image or a video."""
LABELS = ["car", "pedestrian", "cyclist", "traffic light"]


@attrs.define
class DemoResult:
    """What the demo did: one row per step (name, what happened, seconds), plus counts."""

    steps: list[tuple[str, str, float]] = attrs.field(factory=list)
    files: int = 0
    bytes: int = 0
    tasks: int = 0
    annotations: int = 0
    export_dir: str = ""


@contextmanager
def _step(result: DemoResult, name: str, what: list[str]) -> Iterator[None]:
    started = time.perf_counter()
    yield
    seconds = time.perf_counter() - started
    result.steps.append((name, what[0] if what else "", seconds))
    err_console.print(
        f"[green]✓[/] {name}: {what[0] if what else ''} ({seconds:.2f} s)", highlight=False
    )


async def run_demo(
    workdir: Path,
    *,
    images: int,
    big_mb: int,
    latency_ms: float,
    concurrency: int,
    annotation_speed: float,
) -> DemoResult:
    """Run every step against an in-process emulator; files go under ``workdir``."""
    result = DemoResult()
    what: list[str] = []
    with _step(result, "generate dataset", what):
        paths, big = await anyio.to_thread.run_sync(
            make_dataset, workdir / "dataset", images, big_mb * 2**20
        )
        # the large file first: it uploads alongside the small ones, sharing one budget
        files = ([(big, "video_1")] if big else []) + [(p, "image_1") for p in paths]
        result.files = len(files)
        result.bytes = sum(p.stat().st_size for p, _slot in files)
        what[:] = [
            f"{len(paths):,} PNG images + {0 if big is None else 1} file of "
            f"{big_mb} MiB, {megabytes(result.bytes)}"
        ]

    async with Emulator(
        workdir / "emulator",
        faults=Faults(latency=latency_ms / 1000),
        annotation_speed=annotation_speed,
    ) as emu:
        emu.seed.balance("1000000.00")
        err_console.print(
            f"emulator at {emu.url} (in this process, data in {emu.data_dir})",
            style="dim",
            highlight=False,
        )
        async with AsyncClient(emu.url, access_token=emu.access_token) as client:
            await _main_job(client, files, result, concurrency, workdir)
    return result


async def _main_job(
    client: AsyncClient,
    files: list[tuple[Path, str]],
    result: DemoResult,
    concurrency: int,
    workdir: Path,
) -> None:
    what: list[str] = []
    with _step(result, "create collection and project", what):
        collection = await client.data_collections.create(
            "Demo: street scenes", file_specifications=FILE_SPECIFICATIONS
        )
        project = await client.projects.create(
            "Demo: street scenes",
            annotation_type="bounding_box",
            data_type="image",
            labels=LABELS,
            instructions="Draw a box around every road user.",
            quality_settings={"min_annotators": 1},
            pricing_tier="basic",
        )
        what[:] = [f"collection {collection.id}, project {project.id}"]

    items = ({"files": {slot: path}, "meta": {"source": path.name}} for path, slot in files)
    with _step(result, "bulk upload", what):
        summary = await upload_with_progress(
            client,
            collection.id,
            items,
            project=project.id,
            journal=workdir / "upload.journal",
            concurrency=concurrency,
        )
        rate = summary.bytes_sent / summary.seconds if summary.seconds else 0.0
        what[:] = [
            f"{summary.sent:,} files sent, {megabytes(summary.bytes_sent)} "
            f"({rate / 1e6:,.0f} MB/s), {len(summary.data_unit_ids):,} data units, "
            f"{len(summary.task_ids):,} tasks, {summary.failed} failed"
        ]
    if not summary.ok:
        raise click.ClickException(f"{summary.failed} items failed to upload")

    with _step(result, "list tasks concurrently", what):
        statuses: dict[str, int] = {}
        async for task in client.tasks.list(project=project.id, page_size=100):
            statuses[task.status] = statuses.get(task.status, 0) + 1
        result.tasks = sum(statuses.values())
        counts = ", ".join(f"{n:,} {status}" for status, n in statuses.items())
        what[:] = [f"{result.tasks:,} tasks ({counts})"]

    with _step(result, "pay deposit and annotate", what):
        deposit = await project.calculate_deposit()
        await project.pay_deposit(payment_method="credits")
        await project.start()
        with count_progress() as progress:
            bar = progress.add_task("annotating", total=result.tasks)

            def on_status(status: ProjectStatus) -> None:
                progress.update(bar, completed=status.completed_tasks, total=status.total_tasks)

            final = await project.wait_for_completion(
                poll_interval=0.25, callback=on_status, max_wait=600
            )
        what[:] = [
            f"deposit {deposit.amount} {deposit.currency}; {final.completed_tasks:,} "
            f"tasks completed by the simulator"
        ]

    out = workdir / "coco"
    with _step(result, "export COCO", what), count_progress() as progress:
        bar = progress.add_task("export coco", total=None)
        report = await client.exports.export(
            target="assignment",
            filter={"project": project.id},
            format="coco",
            output_dir=out,
            on_progress=lambda done, total: progress.update(bar, completed=done, total=total),
        )
        result.annotations = report.annotations_written
        result.export_dir = str(out)
        what[:] = [f"{report.images:,} images, {report.annotations_written:,} boxes in {out}"]


def summary_table(result: DemoResult) -> Table:
    """One row per step with its time, and the total."""
    table = Table(title="synapse demo")
    table.add_column("step")
    table.add_column("result")
    table.add_column("seconds", justify="right")
    for name, what, seconds in result.steps:
        table.add_row(name, what, f"{seconds:.2f}")
    table.add_row("total", "", f"{sum(s for _n, _w, s in result.steps):.2f}", style="bold")
    return table


@click.command()
@click.option(
    "--images",
    type=click.IntRange(1, 1_000_000),
    default=2500,
    show_default=True,
    help="Small PNG images to generate.",
)
@click.option(
    "--big-mb",
    type=click.IntRange(0, 100_000),
    default=200,
    show_default=True,
    help="Size of the one large file in MiB (0: none).",
)
@click.option(
    "--latency-ms",
    type=click.FloatRange(min=0),
    default=0.0,
    show_default=True,
    help="Network latency the emulator adds to every request.",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 256),
    default=C.DEFAULT_BULK_CONCURRENCY,
    show_default=True,
    help="Requests in flight during the upload.",
)
@click.option(
    "--workdir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Keep the dataset, emulator data and export here (default: a temporary "
    "directory, removed at the end).",
)
def demo(
    images: int, big_mb: int, latency_ms: float, concurrency: int, workdir: Path | None
) -> None:
    """Run the main job on an embedded emulator: upload, list, annotate, export COCO.

    Needs no account and no network: the emulator runs in this process on loopback.
    """
    speed = max(500.0, images / 3)  # the simulator finishes in a few seconds
    if workdir is not None:
        workdir.mkdir(parents=True, exist_ok=True)
        result = run(
            run_demo(
                workdir,
                images=images,
                big_mb=big_mb,
                latency_ms=latency_ms,
                concurrency=concurrency,
                annotation_speed=speed,
            )
        )
    else:
        with tempfile.TemporaryDirectory(prefix="synapse-demo-") as tmp:
            result = run(
                run_demo(
                    Path(tmp),
                    images=images,
                    big_mb=big_mb,
                    latency_ms=latency_ms,
                    concurrency=concurrency,
                    annotation_speed=speed,
                )
            )
        result.export_dir += " (removed; pass --workdir DIR to keep it)"
    out_console.print(summary_table(result))
    out_console.print(f"COCO export: {result.export_dir}", highlight=False)
