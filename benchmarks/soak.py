"""Soak under faults: a mixed workload for minutes; memory and open files must stay flat.

An emulator process answers about 5% of requests with a fault (500/502/503, an HTML 502, 429
with Retry-After, a connection dropped mid-body or a flipped byte on upload bodies, a lost
reply) plus 5 ms latency; one client process (``benchmarks.soak_client``) runs listings,
small creates with Idempotency-Keys, data-file uploads, chunked uploads with MD5 checks, bulk
uploads of small batches, gets and a sync-facade listing thread, all at once, for
``--seconds`` (default 300; ``SOAK_SECONDS`` under ``python -m benchmarks soak``; smoke 20).
It samples its RSS and open file descriptors every 10 s.

Targets: RSS growth over the run after its first minute <= 10 MB, open fds within +/- 5 of
the first minute's, no error surfacing to the caller (the SDK retries the faults).

Run alone: ``python -m benchmarks.soak [--seconds N] [--check]``; by name:
``python -m benchmarks soak``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import urllib.request
from pathlib import Path
from typing import Any

from benchmarks.common import TARGETS, emulator_process, machine, run_client, target

FAULTS = {
    "latency": 0.005,
    "error_rate": 0.025,
    "error_statuses": [502, 503, 504],
    "html_error_rate": 0.005,
    "rate_limit_rate": 0.01,
    "retry_after": 0.2,
    "drop_rate": 0.005,
    "corrupt_rate": 0.005,
    "lost_reply_rate": 0.005,
    "seed": 11,
}
"""About 5% of requests faulted (the body faults apply to upload bodies only). The statuses are
the SDK's default ``retry_statuses``: a 500 is not retried by design (an application error, not
a transient one), so ``--statuses 500,502,503`` makes every injected 500 surface."""


def _control(url: str, token: str, method: str, body: Any = None) -> Any:
    req = urllib.request.Request(
        url + "_emulator/faults/" + ("?reset_counters=1" if method == "PUT" else ""),
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Synapse-Access-Token": f"Token {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.load(resp)


def _window(samples: list[dict[str, Any]], lo: float, hi: float) -> list[dict[str, Any]]:
    return [s for s in samples if lo <= s["t"] <= hi and not s.get("final")]


def soak(seconds: float, smoke: bool, statuses: list[int] | None = None) -> str:
    """Run the soak for ``seconds`` (``statuses``: the injected 5xx, default FAULTS'); the
    markdown report."""
    faults = {**FAULTS, "error_statuses": statuses or FAULTS["error_statuses"]}
    root = Path(
        tempfile.mkdtemp(
            prefix="synapse-soak-", dir="/dev/shm" if Path("/dev/shm").is_dir() else None
        )
    )
    try:
        with emulator_process(data_dir=str(root / "emu")) as emu:
            _control(emu.url, emu.token, "PUT", faults)
            work = root / "client"
            work.mkdir()
            out = run_client(
                "benchmarks.soak_client",
                "--url",
                emu.url,
                f"--token={emu.token}",
                "--dir",
                str(work),
                "--seconds",
                str(seconds),
                timeout=seconds + 600,
            )
            server = _control(emu.url, emu.token, "GET")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return report(out, server, faults, smoke)


def report(out: dict[str, Any], server: dict[str, Any], faults: dict[str, Any], smoke: bool) -> str:
    """The markdown report of one soak run (``out``: the client's JSON line)."""
    samples: list[dict[str, Any]] = out["samples"]
    lines = [
        f"Client ran {out['seconds']:.0f} s against faults `{json.dumps(faults)}`.",
        "",
        "| t (s) | RSS (MB) | open fds | operations | errors surfaced | SDK retries |",
        "|---|---|---|---|---|---|",
    ]
    for s in samples:
        label = f"{s['t']:.0f}" + (" (after stop)" if s.get("final") else "")
        lines.append(
            f"| {label} | {s['rss_kb'] / 1024:.1f} | {s['fds']} | {s['ops']} | "
            f"{s['errors']} | {s['retries']} |"
        )
    end = max(s["t"] for s in samples if not s.get("final"))
    minute = min(60.0, end / 5)  # the first and last minute (a fifth of a short run)
    # The t=0 sample precedes the workers: the first minute is the samples from t > 0.
    first = [s for s in _window(samples, 0, minute) if s["t"] > 0] or samples[1:2]
    settled = [s for s in samples if s["t"] >= minute and not s.get("final")] or samples[-1:]
    last = _window(samples, end - minute, end) or samples[-1:]
    rss = [s["rss_kb"] / 1024 for s in settled]
    fds = [s["fds"] for s in settled]
    growth = rss[-1] - rss[0]
    first_rss = statistics.mean(s["rss_kb"] / 1024 for s in first)
    last_rss = statistics.mean(s["rss_kb"] / 1024 for s in last)
    first_fds = statistics.mean(s["fds"] for s in first)
    last_fds = statistics.mean(s["fds"] for s in last)
    fd_drift = last_fds - first_fds
    minutes = max(end / 60, 1e-9)
    lines += [
        "",
        f"RSS: first-minute mean {first_rss:.1f} MB, last-minute mean {last_rss:.1f} MB "
        f"({(last_rss - first_rss) / minutes:+.2f} MB/min over the run); from "
        f"t={settled[0]['t']:.0f} s to the end "
        f"{growth:+.1f} MB (min {min(rss):.1f}, max {max(rss):.1f}).",
        f"Open fds: first-minute mean {first_fds:.1f}, last-minute mean {last_fds:.1f}; "
        f"after the first minute between {min(fds)} and {max(fds)} (the connections in "
        f"flight vary).",
        "",
        "Operations done: "
        + ", ".join(f"{k} {v}" for k, v in sorted(out["ops"].items()))
        + f" (total {sum(out['ops'].values())}).",
        "SDK retries (by the fault absorbed): "
        + (", ".join(f"{k} {v}" for k, v in sorted(out["retries"].items())) or "none")
        + ".",
        f"Emulator fault counters: `{json.dumps(server.get('counters'))}`, replies "
        f"`{json.dumps(server.get('replies'))}`.",
        "",
    ]
    unexpected = sum(out["errors"].values())
    if unexpected:
        lines.append("Errors that surfaced to the caller:")
        lines += [f"- {k}: {v}" for k, v in sorted(out["errors"].items())]
        for ex in out["examples"]:  # the first of each operation and error type
            lines += [
                "",
                f"`{ex['operation']}` {ex['type']}: {ex['message']}",
                "",
                "```",
                ex["traceback"].rstrip(),
                "```",
            ]
    else:
        lines.append("Errors that surfaced to the caller: none.")
    lines += [
        "",
        target(
            "soak",
            f"RSS growth from t={settled[0]['t']:.0f} s to the end <= 10 MB",
            f"{growth:+.1f} MB",
            growth <= 10,
            smoke=smoke,
        ),
        target(
            "soak",
            "open fds flat (last-minute mean within +/- 5 of the first's)",
            f"{fd_drift:+.1f}",
            abs(fd_drift) <= 5,
            smoke=smoke,
        ),
        target("soak", "0 unexpected errors", str(unexpected), unexpected == 0, smoke=smoke),
    ]
    return "\n".join(lines)


def run(smoke: bool = False) -> str:
    """``python -m benchmarks soak`` entry point."""
    seconds = 20.0 if smoke else float(os.environ.get("SOAK_SECONDS", "300"))
    return soak(seconds, smoke)


def main(argv: list[str] | None = None) -> int:
    """``python -m benchmarks.soak [--seconds N] [--check]``."""
    p = argparse.ArgumentParser(prog="python -m benchmarks.soak")
    p.add_argument("--seconds", type=float, default=300.0)
    p.add_argument(
        "--statuses",
        default=None,
        help="comma-separated 5xx statuses to inject (default 502,503,504)",
    )
    p.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    a = p.parse_args(argv)
    load = "/".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"Machine: {machine()}; load average at start {load}\n", flush=True)
    statuses = [int(x) for x in a.statuses.split(",")] if a.statuses else None
    print(soak(a.seconds, smoke=False, statuses=statuses))
    load = "/".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\nLoad average at end {load}.")
    return 1 if a.check and any(not t.met for t in TARGETS) else 0


if __name__ == "__main__":
    sys.exit(main())
