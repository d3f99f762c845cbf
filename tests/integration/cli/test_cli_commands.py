"""The ``synapse`` commands against a real emulator, through Click's runner."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from click.testing import CliRunner

from synapse_async.cli import cli
from tests.integration.cli.conftest import RunningEmulator


def test_help_lists_every_command() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for name in ("demo", "login", "config", "doctor", "emulator", "upload", "ls", "export", "jobs"):
        assert f"  {name} " in result.stdout


def test_ls_tasks_json_lines_are_every_task_in_order(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["ls", "tasks", "--project", "1", "--json", "--page-size", "40"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["id"] for r in rows] == list(range(1, 251))
    assert {r["project"] for r in rows} == {1}


def test_ls_table_streams_in_chunks_and_limit_stops(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["ls", "tasks", "--project", "1", "--limit", "150"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["id", "project", "status"]
    assert len(lines) == 151  # one header, then 150 rows (two tables of 100 + 50)
    assert lines[-1].split()[0] == "150"
    assert "150 tasks" in result.stderr


def test_ls_tasks_without_project_is_bad_usage_without_traceback(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["ls", "tasks"])
    assert result.exit_code == 2
    assert "needs --project" in result.stderr
    assert "Traceback" not in result.output


def test_api_error_prints_the_typed_message_and_debug_adds_the_traceback(
    runner: CliRunner, monkeypatch: object
) -> None:
    env = {"SYNAPSE_ACCESS_TOKEN": "emu_wrong"}
    result = runner.invoke(cli, ["ls", "projects"], env=env)
    assert result.exit_code == 1
    assert "AuthenticationError" in result.stderr and "synapse login" in result.stderr
    assert "Traceback" not in result.output
    assert "emu_wrong" not in result.output
    debug = runner.invoke(cli, ["--debug", "ls", "projects"], env=env)
    assert debug.exit_code == 1
    assert "Traceback" in debug.stderr
    assert "emu_wrong" not in debug.output


def test_login_writes_a_0600_config_and_show_redacts(
    runner: CliRunner, emu: RunningEmulator, tmp_path: Path
) -> None:
    cfg = tmp_path / "config.json"
    result = runner.invoke(
        cli, ["login"], input=emu.token + "\n", env={"SYNAPSE_ACCESS_TOKEN": None}
    )
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(os.stat(cfg).st_mode) == 0o600
    assert json.loads(cfg.read_text()) == {"host": emu.url, "access_token": emu.token}
    shown = runner.invoke(cli, ["config", "show"], env={"SYNAPSE_ACCESS_TOKEN": None})
    assert shown.exit_code == 0
    assert emu.token not in shown.output
    assert "***" in shown.stdout and "config file" in shown.stdout
    # the saved token is what the other commands now use
    listed = runner.invoke(cli, ["ls", "projects", "--json"], env={"SYNAPSE_ACCESS_TOKEN": None})
    assert listed.exit_code == 0 and json.loads(listed.stdout.splitlines()[0])["id"] == 1


def test_login_with_a_refused_token_writes_nothing(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["login", "--token", "emu_nope"])
    assert result.exit_code == 1
    assert "AuthenticationError" in result.stderr
    assert not (tmp_path / "config.json").exists()


def test_doctor_all_ok(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["doctor"])
    assert result.exit_code == 0, result.output
    lines = {
        line.split()[1]: line.split()[0]
        for line in result.stdout.splitlines()
        if line.strip() and line.split()[0] in ("ok", "problem", "info")
    }
    assert lines == {
        "versions": "info",
        "settings": "ok",
        "reachable": "ok",
        "clock": "ok",
        "credentials": "ok",
        "uploads": "ok",
    }
    assert "parallel chunked upload" in result.stdout


def test_doctor_reports_a_bad_token_and_exits_1(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["doctor"], env={"SYNAPSE_ACCESS_TOKEN": "emu_nope"})
    assert result.exit_code == 1
    assert "problem  credentials" in result.stdout
    assert "synapse login" in result.stdout


def test_doctor_reports_an_unreachable_host(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["--host", "http://127.0.0.1:9/", "doctor"])
    assert result.exit_code == 1
    assert "problem  reachable" in result.stdout


def test_export_coco_writes_the_files_with_counts(
    runner: CliRunner, emu: RunningEmulator, tmp_path: Path
) -> None:
    project = emu.seed("project", name="boxes", annotation_type="bounding_box")
    emu.seed("annotated_assignments", project_id=project["id"], n_items=12, boxes_per_item=3)
    out = tmp_path / "coco"
    result = runner.invoke(
        cli, ["export", str(project["id"]), "--format", "coco", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    files = sorted(p.name for p in out.rglob("*.json"))
    assert files, result.output
    total = sum(
        len(json.loads(p.read_text()).get("annotations", []))
        for p in out.rglob("*.json")
        if p.name != "export_report.json"
    )
    assert total == 36
    assert "total" in result.stdout and "36" in result.stdout


def test_jobs_tail_prints_every_line_and_exit_code_follows_the_job(
    runner: CliRunner, emu: RunningEmulator
) -> None:
    ok = emu.seed("job", lines=["loading", "training", "done"], step_seconds=0.05)
    result = runner.invoke(cli, ["jobs", "tail", str(ok["id"])])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["loading", "training", "done"]
    failed = emu.seed("job", lines=["boom"], step_seconds=0.05, outcome="failed")
    result = runner.invoke(cli, ["jobs", "tail", str(failed["id"])])
    assert result.exit_code == 1
    assert "failed" in result.stderr


def test_a_local_file_error_is_one_line_not_a_traceback(runner: CliRunner) -> None:
    # readable (absent), but its directory cannot be created: even root cannot write /proc
    result = runner.invoke(
        cli,
        ["login", "--token", "t", "--no-verify"],
        env={"SYNAPSE_CONFIG_FILE": "/proc/synapse-cli-test/config.json"},
    )
    assert result.exit_code == 1
    assert "error:" in result.stderr and "/proc/synapse-cli-test" in result.stderr
    assert "Traceback" not in result.output
