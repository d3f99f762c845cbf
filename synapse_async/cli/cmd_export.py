"""``synapse export PROJECT --format ... --out DIR``: export annotations to files."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from synapse_async import ExportReport, InvalidInputError
from synapse_async.cli._progress import count_progress
from synapse_async.cli._runtime import State, out_console, run, state_of

__all__ = ["FORMATS", "TARGETS", "export", "parse_split"]

FORMATS = ("coco", "yolo", "voc", "csv", "json", "spacy")
"""The export formats."""
TARGETS = ("assignment", "ground_truth", "task")
"""What can be exported: annotators' work, ground truth events, or tasks."""


def parse_split(text: str | None) -> dict[str, float] | None:
    """``train=0.8,val=0.2`` -> ``{"train": 0.8, "val": 0.2}``."""
    if not text:
        return None
    split: dict[str, float] = {}
    for part in text.split(","):
        name, sep, ratio = part.partition("=")
        try:
            if not sep or not name.strip():
                raise ValueError
            split[name.strip()] = float(ratio)
        except ValueError:
            raise InvalidInputError(
                f"--split must look like train=0.8,val=0.2, got {text!r}"
            ) from None
    return split


async def run_export(
    state: State,
    project: int,
    fmt: str,
    target: str,
    out: Path,
    split: dict[str, float] | None,
    include_files: bool,
) -> ExportReport:
    """Export ``target`` records of ``project`` to ``out`` with a progress bar."""
    with count_progress() as progress:
        bar = progress.add_task(f"export {fmt}", total=None)

        def on_progress(done: int, total: int) -> None:
            progress.update(bar, completed=done, total=total)

        async with state.client() as client:
            return await client.exports.export(
                target=target,
                filter={"project": project},
                format=fmt,
                output_dir=out,
                split=split,
                include_files=include_files,
                on_progress=on_progress,
            )


def report_table(report: ExportReport) -> Table:
    """The export's summary: counts per split, and what was left out."""
    table = Table(title=f"{report.format} export in {report.output_dir}")
    table.add_column("split")
    for header in ("items", "images", "annotations"):
        table.add_column(header, justify="right")
    for name, counts in report.splits.items():
        table.add_row(name, str(counts.items), str(counts.images), str(counts.annotations))
    table.add_row(
        "total",
        str(report.items),
        str(report.images),
        str(report.annotations_written),
        style="bold",
    )
    if report.invalid_total or report.outside or report.unknown_total:
        table.caption = (
            f"left out: {report.invalid_total} invalid, {report.outside} outside "
            f"the image, {report.unknown_total} unknown tools"
        )
    return table


@click.command()
@click.argument("project", type=int)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="json", show_default=True)
@click.option(
    "--target",
    type=click.Choice(TARGETS),
    default="assignment",
    show_default=True,
    help="Annotators' work, ground truth events, or tasks.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Output directory (created if missing).",
)
@click.option(
    "--split",
    default=None,
    metavar="NAME=RATIO,...",
    help="Split records, e.g. train=0.8,val=0.1,test=0.1.",
)
@click.option("--include-files", is_flag=True, help="Also download the original files.")
@click.pass_context
def export(
    ctx: click.Context,
    project: int,
    fmt: str,
    target: str,
    out: Path,
    split: str | None,
    include_files: bool,
) -> None:
    """Export a project's annotations to COCO, YOLO, VOC, CSV, JSON or spaCy files."""
    report = run(
        run_export(state_of(ctx), project, fmt, target, out, parse_split(split), include_files)
    )
    out_console.print(report_table(report))
