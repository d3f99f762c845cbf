"""``python -m benchmarks [NAME ...] [--smoke] [--check]``: run benchmarks, print markdown.

Each benchmark prints its targets with the measured figure and **met** / **NOT MET**; the run
ends with a table of every target. ``--check`` exits with status 1 when a target was missed.
``--smoke`` runs tiny sizes once (CI's check that the benchmarks still run): its figures are
not judged against the targets, so it never fails on them, and benchmarks that need more than
this checkout (``official``: installs ``synapse-sdk`` from PyPI) are skipped with the reason.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from benchmarks.common import TARGETS, machine

BENCHMARKS = [
    "listing",
    "sync_listing",
    "sync_listing_warm",
    "sync_overhead",
    "upload",
    "export_convert",
    "export",
    "bulk",
    "emulator_seed",
    "official",
    "converter",
    "export_libraries",
]
SMOKE_SKIPS = {
    "official": "installs synapse-sdk from PyPI in its own Python 3.12 venv and "
    "moves 1 GiB; run `python -m benchmarks official` to measure it"
}
# Run by name only: `scale_out` needs the [ray] extra and starts local Ray clusters; `soak`
# runs for 5 minutes (SOAK_SECONDS) under injected faults.
EXTRA = ["scale_out", "soak"]


def _load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    """Run the named benchmarks (default all); the exit status for ``--check``."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument(
        "names",
        nargs="*",
        help=f"benchmarks to run (default all: {BENCHMARKS}; by name only: {EXTRA})",
    )
    parser.add_argument(
        "--smoke", action="store_true", help="tiny sizes, one run, targets not judged (for CI)"
    )
    parser.add_argument(
        "--check", action="store_true", help="exit with status 1 when a target is missed"
    )
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in BENCHMARKS + EXTRA]
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; choose from {BENCHMARKS + EXTRA}")
    if args.smoke and args.check:
        parser.error("--smoke figures are not judged against targets; drop one of the two")
    print(f"Machine: {machine()}; load average at start {_load()}\n")
    for name in args.names or BENCHMARKS:
        print(f"## {name}{' (smoke)' if args.smoke else ''}\n", flush=True)
        if args.smoke and name in SMOKE_SKIPS:
            print(f"Skipped in --smoke: {SMOKE_SKIPS[name]}.\n", flush=True)
            continue
        module = importlib.import_module(f"benchmarks.{name}")
        print(module.run(smoke=args.smoke), flush=True)
        print()
    print(f"## Targets (load average at end {_load()})\n")
    print("| benchmark | target | measured | verdict |\n|---|---|---|---|")
    for t in TARGETS:
        print(f"| {t.benchmark} | {t.goal} | {t.measured} | **{t.verdict}** |")
    missed = [t for t in TARGETS if t.judged and not t.met]
    if missed:
        print(f"\n{len(missed)} target(s) NOT MET.")
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
