"""``python -m benchmarks``: targets are printed with a verdict; ``--check`` fails on a miss,
``--smoke`` never does (CI runs it), and smoke skips what needs a network install."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator

import pytest

import benchmarks.__main__ as cli
from benchmarks import common


@pytest.fixture
def fake_benchmark(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[bool]]:
    """A benchmark named ``fake`` whose one target is met or not, as the test says."""
    outcome = [True]
    module = types.ModuleType("benchmarks.fake")

    def run(*, smoke: bool = False) -> str:
        return common.target(
            "fake", "speed >= 2x", "1.5x" if not outcome[0] else "3.0x", outcome[0], smoke=smoke
        )

    module.run = run  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "benchmarks.fake", module)
    monkeypatch.setattr(cli, "BENCHMARKS", ["fake", "official"])
    monkeypatch.setattr(common, "TARGETS", [])
    monkeypatch.setattr(cli, "TARGETS", common.TARGETS)
    yield outcome


def test_check_fails_only_on_a_missed_target(
    fake_benchmark: list[bool], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["fake", "--check"]) == 0
    assert "measured 3.0x: **met**" in capsys.readouterr().out
    fake_benchmark[0] = False
    assert cli.main(["fake", "--check"]) == 1
    out = capsys.readouterr().out
    assert "measured 1.5x: **NOT MET**" in out and "| fake | speed >= 2x | 1.5x |" in out
    assert cli.main(["fake"]) == 0  # without --check the miss is reported, not fatal


def test_smoke_never_judges_and_skips_the_official_baseline(
    fake_benchmark: list[bool], capsys: pytest.CaptureFixture[str]
) -> None:
    fake_benchmark[0] = False
    assert cli.main(["--smoke"]) == 0
    out = capsys.readouterr().out
    assert "not judged (smoke sizes)" in out and "NOT MET" not in out
    assert "Skipped in --smoke: installs synapse-sdk from PyPI" in out
    with pytest.raises(SystemExit):
        cli.main(["--smoke", "--check"])
    with pytest.raises(SystemExit):
        cli.main(["nope"])
