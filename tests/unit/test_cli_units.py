"""Pure pieces of the CLI: progress text, clock check, settings redaction, split parsing."""

from __future__ import annotations

import stat
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

import pytest

from synapse_async import InvalidInputError
from synapse_async.bulk import BulkProgress
from synapse_async.cli._probe import Answer
from synapse_async.cli._progress import TransferBars
from synapse_async.cli._settings import redact, sources, write_config
from synapse_async.cli.cmd_doctor import _clock
from synapse_async.cli.cmd_export import parse_split


def _snap(files_done: int, files_total: int, scan_complete: bool) -> BulkProgress:
    return BulkProgress(
        files_done=files_done,
        files_total=files_total,
        bytes_done=2_000_000,
        bytes_total=5_000_000,
        items_done=files_done,
        items_failed=0,
        rate=1_500_000.0,
        scan_complete=scan_complete,
    )


def test_transfer_bars_show_counts_rate_and_a_growing_total() -> None:
    bars = TransferBars()
    bars.update(_snap(3, 10, scan_complete=False))
    files, sent = bars.progress.tasks
    assert files.fields["detail"] == "3/10+ files"
    assert (files.completed, files.total) == (3, 10)
    assert sent.fields["detail"] == "2.0 MB/5.0 MB+" and sent.fields["speed"] == "1.5 MB/s"
    bars.update(_snap(10, 10, scan_complete=True))
    assert bars.progress.tasks[0].fields["detail"] == "10/10 files"


def _answer_dated(offset: timedelta) -> Answer:
    return Answer(
        200, {"Date": format_datetime(datetime.now(timezone.utc) + offset, usegmt=True)}, None
    )


def test_clock_skew_over_the_limit_is_a_problem() -> None:
    assert _clock(_answer_dated(timedelta(0))).ok is True
    late = _clock(_answer_dated(timedelta(minutes=-5)))
    assert late.ok is False and "s off the server's" in late.detail
    assert _clock(Answer(200, {}, None)).ok is None


def test_credentials_are_redacted_and_sources_named() -> None:
    assert redact("access_token", "secret") == "***"
    assert redact("access_token", None) == "-"
    assert redact("host", "http://h/") == "http://h/"
    found = sources({"SYNAPSE_ACCESS_TOKEN": "t"}, {"host": "http://f/", "access_token": "x"})
    assert found["access_token"] == ("t", "env SYNAPSE_ACCESS_TOKEN")
    assert found["host"] == ("http://f/", "config file")
    assert found["tenant"] == (None, "not set")


def test_config_is_written_0600_and_whole(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "config.json"
    write_config(path, {"host": "http://h/", "access_token": "t"})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text() == '{\n  "host": "http://h/",\n  "access_token": "t"\n}\n'
    assert [p.name for p in path.parent.iterdir()] == ["config.json"]  # no temp file left


def test_parse_split() -> None:
    assert parse_split("train=0.8,val=0.2") == {"train": 0.8, "val": 0.2}
    assert parse_split(None) is None
    with pytest.raises(InvalidInputError, match=r"train=0\.8"):
        parse_split("train")
