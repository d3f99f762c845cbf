"""``python -m benchmarks [NAME ...] [--smoke]``: run benchmarks, print markdown reports."""

from __future__ import annotations

import argparse
import importlib

from benchmarks.common import machine

BENCHMARKS = ["listing", "sync_listing", "sync_overhead", "upload", "export_convert", "export",
              "export_libraries"]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("names", nargs="*", help=f"benchmarks to run (default all: {BENCHMARKS})")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, one run (for CI)")
    args = parser.parse_args()
    print(f"Machine: {machine()}\n")
    for name in args.names or BENCHMARKS:
        module = importlib.import_module(f"benchmarks.{name}")
        print(f"## {name}{' (smoke)' if args.smoke else ''}\n")
        print(module.run(smoke=args.smoke))
        print()


if __name__ == "__main__":
    main()
