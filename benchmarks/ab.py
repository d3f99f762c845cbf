"""Before/after on a loaded machine: two source trees, client processes alternating.

``python -m benchmarks.ab BASE_TREE NEW_TREE [listing] [upload] [sync_overhead]`` runs the
listing client (10k tasks, 16 pages in flight, emulator ``--latency-ms 20``; 8 runs per tree),
the upload client (256 MiB over loopback, no caps; 6 runs per tree) and the sync facade's
per-call measurement (``benchmarks.sync_overhead --client``; 3 processes per tree) from each
tree in turn, ABAB then BABA, against one emulator process, so both trees see the same load.
Make a tree with ``git archive REV | tar -x -C DIR``. Prints medians, minima and the new/base
ratios; CPU (user + sys of the client process) is the figure that load disturbs least.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from typing import Any

from benchmarks.common import emulator_process
from benchmarks.listing import _project_id


def _client(tree: str, module: str, *args: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", module, *args], capture_output=True, text=True, cwd=tree, check=False
    )
    if out.returncode:
        raise RuntimeError(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _alternate(
    trees: dict[str, str], n: int, module: str, *args: str
) -> dict[str, list[dict[str, Any]]]:
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in trees}
    order = list(trees)
    for i in range(n):
        for name in order if i % 2 == 0 else order[::-1]:
            results[name].append(_client(trees[name], module, *args))
    return results


def _report(title: str, results: dict[str, list[dict[str, Any]]]) -> str:
    lines = [f"{title}:"]
    for name, runs in results.items():
        el = [r["elapsed_s"] for r in runs]
        cpu = [r["cpu_s"] for r in runs]
        rss = [r["peak_rss_mb"] for r in runs]
        lines.append(
            f"  {name}: elapsed {statistics.median(el):.3f} s ({min(el):.3f}-"
            f"{max(el):.3f}), CPU {statistics.median(cpu):.3f} s ({min(cpu):.3f}-"
            f"{max(cpu):.3f}), peak RSS {statistics.median(rss):.1f} MB, n={len(el)}"
        )
    base, new = results["base"], results["new"]

    def ratio(key: str, pick: Any) -> float:
        return float(pick(r[key] for r in new) / pick(r[key] for r in base))

    lines.append(
        f"  new/base: elapsed median {ratio('elapsed_s', statistics.median):.3f}, "
        f"CPU median {ratio('cpu_s', statistics.median):.3f}, CPU min "
        f"{ratio('cpu_s', min):.3f}, RSS {ratio('peak_rss_mb', statistics.median):.3f}"
    )
    return "\n".join(lines)


def main() -> None:
    """Run the comparison named on the command line."""
    base, new, *which = sys.argv[1:]
    trees = {"base": base, "new": new}
    which = which or ["listing", "upload"]
    print(f"load average at start {os.getloadavg()}", flush=True)
    if "listing" in which:
        with emulator_process("--latency-ms", "20", "--seed-tasks", "10000") as emu:
            project = _project_id(emu.url, emu.token)
            print(
                _report(
                    "listing 10k tasks, 16 in flight",
                    _alternate(
                        trees,
                        8,
                        "benchmarks.listing_client",
                        "--url",
                        emu.url,
                        f"--token={emu.token}",
                        "--project",
                        str(project),
                        "--concurrency",
                        "16",
                    ),
                ),
                flush=True,
            )
        print(f"load average {os.getloadavg()}", flush=True)
    if "upload" in which:
        root = tempfile.mkdtemp(prefix="synapse-ab-")
        try:
            path = os.path.join(root, "f.bin")
            with open(path, "wb") as fh:
                for _ in range(256):
                    fh.write(os.urandom(2**20))
            with emulator_process(data_dir=os.path.join(root, "emu")) as emu:
                print(
                    _report(
                        "upload 256 MiB, loopback",
                        _alternate(
                            trees,
                            6,
                            "benchmarks.upload_client",
                            "--url",
                            emu.url,
                            f"--token={emu.token}",
                            "--file",
                            path,
                        ),
                    ),
                    flush=True,
                )
        finally:
            shutil.rmtree(root, ignore_errors=True)
    if "sync_overhead" in which:
        runs = _alternate(trees, 3, "benchmarks.sync_overhead", "--client")
        print("sync facade per call (median of each process's rounds):")
        for name, results in runs.items():
            facade = [statistics.median(r["samples"]["facade"]) for r in results]
            bare = [statistics.median(r["samples"]["bare"]) for r in results]
            ratios = [r["ratio_median"] for r in results]
            print(
                f"  {name}: facade {', '.join(f'{x:.1f}' for x in facade)} us, bare "
                f"{', '.join(f'{x:.1f}' for x in bare)} us, facade/bare "
                f"{', '.join(f'{x:.2f}' for x in ratios)}",
                flush=True,
            )
    print(f"load average at end {os.getloadavg()}", flush=True)


if __name__ == "__main__":
    main()
