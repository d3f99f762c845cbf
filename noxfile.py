"""Developer sessions: tests (3.10-3.13), lint, typecheck, generate, bench, docs, ray,
consumers."""

from __future__ import annotations

import glob
import os
import shutil
from pathlib import Path

import nox

# pyenv installs every interpreter but puts only the global one on PATH: expose the others.
for _bin in sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.*/bin")), reverse=True):
    os.environ["PATH"] = _bin + os.pathsep + os.environ["PATH"]

nox.options.sessions = ["lint", "typecheck", "tests"]
nox.options.default_venv_backend = "venv"

PYTHONS = ["3.10", "3.11", "3.12", "3.13"]
PACKAGES = ["synapse_async", "synapse_sync"]


@nox.session(python="3.11")
def tests(session: nox.Session) -> None:
    """Run the test suite against the emulator (Python 3.11 by default)."""
    session.install("-e", ".[dev,spacy]")
    session.run("pytest", *session.posargs)


@nox.session(python=PYTHONS, name="tests-all")
def tests_all(session: nox.Session) -> None:
    """Run the test suite on every supported Python."""
    session.install("-e", ".[dev,spacy]")
    session.run("pytest", *session.posargs)


@nox.session(python="3.11")
def lint(session: nox.Session) -> None:
    """Ruff lint."""
    session.install("ruff==0.17.6")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python="3.11")
def typecheck(session: nox.Session) -> None:
    """Mypy strict on the packages, the docs' examples, the tests and the benchmarks."""
    session.install("-e", ".[dev]")
    session.run("mypy", *PACKAGES)
    session.run("mypy", "tests", "benchmarks")
    session.run("mypy", "--strict", "docs/examples")


@nox.session(python="3.11")
def generate(session: nox.Session) -> None:
    """Regenerate the sync facade (``--check`` as a posarg only verifies it)."""
    session.install("-e", ".[dev]")
    session.run("python", "-m", "synapse_sync._codegen", *session.posargs)


@nox.session(python="3.11")
def bench(session: nox.Session) -> None:
    """Run the benchmarks (minutes; results are printed, copy them to docs/benchmarks.md)."""
    session.install("-e", ".[dev]")
    session.run("python", "-m", "benchmarks", *session.posargs)


@nox.session(python="3.11")
def docs(session: nox.Session) -> None:
    """Build the documentation site strictly (warnings are errors) into site/."""
    session.install("-e", ".[docs]")
    session.env["NO_MKDOCS_2_WARNING"] = "1"
    session.run("mkdocs", "build", "--strict", *session.posargs)


@nox.session(python="3.11")
def ray(session: nox.Session) -> None:
    """Scale-out tests (tests/integration/ray): a local, loopback-only Ray cluster and the emulator.

    As root on Linux the tests run inside ``unshare -n`` (a network namespace holding only
    ``lo``) and under ``strace -f -e trace=connect``; the log is checked for any connect()
    beyond 127.0.0.1/::1 by a test during the run and again after every Ray process exited.
    """
    import shutil
    from pathlib import Path

    session.install("-e", ".[ray,dev]")
    command = ["pytest", "tests/integration/ray", "-p", "no:randomly", *session.posargs]
    trace = None
    if shutil.which("strace"):
        trace = Path(session.create_tmp()) / "ray-connect.trace"
        trace.unlink(missing_ok=True)
        session.env["SYNAPSE_RAY_CONNECT_TRACE"] = str(trace)
        command = [
            "strace",
            "-f",
            "-qq",
            "--seccomp-bpf",
            "-e",
            "trace=connect",
            "-o",
            str(trace),
            *command,
        ]
    else:
        session.warn("strace not found (apt-get install strace): connect() calls not checked")
    if os.name == "posix" and os.geteuid() == 0 and shutil.which("unshare"):
        session.env["SYNAPSE_RAY_NETNS"] = "1"
        command = ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$@"', "sh", *command]
    else:
        session.warn("not root or no unshare: Ray tests run without a network namespace")
    session.run(*command, external=True)
    if trace is not None:
        session.run("python", "-m", "tests.integration.ray.loopback_trace", str(trace))


@nox.session(python="3.11")
def consumers(session: nox.Session) -> None:
    """Exports read by the heavy consumers: Ultralytics (no weights) and Datumaro (own venv).

    torch is pinned to 2.13.0, which on Python 3.11 resolves to the CPU wheel on this
    machine's local wheel folder (a plain ``torch`` would download a CUDA build of GBs);
    torchvision to its matching 0.28.0. Datumaro pins its own numpy/opencv, so it gets a
    virtual environment of its own inside the session's tmp folder. The tests run in this
    session's environment and call each consumer's Python in a subprocess (the light
    consumers in the same folder run with the normal test suite).
    """
    session.install("-e", ".[dev]")
    session.install("torch==2.13.0", "torchvision==0.28.0", "ultralytics")
    datumaro = Path(session.create_tmp()) / "datumaro-venv"
    if not (datumaro / "bin" / "python").exists():
        session.run("python", "-m", "venv", str(datumaro))
    session.run(str(datumaro / "bin" / "pip"), "install", "-q", "datumaro", external=True)
    python = str(Path(session.virtualenv.location) / "bin" / "python")
    command = [
        "pytest",
        "-q",
        "-p",
        "no:randomly",
        "tests/integration/export_consumers/test_heavy_consumers.py",
        *session.posargs,
    ]
    # Ultralytics checks PyPI for updates, sends usage events and fetches fonts unless told
    # not to: YOLO_OFFLINE turns that off, and as root the tests also run in a network
    # namespace holding only lo, so nothing can leave the machine whatever a library tries.
    if os.name == "posix" and os.geteuid() == 0 and shutil.which("unshare"):
        command = ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$@"', "sh", *command]
    else:
        session.warn("not root or no unshare: consumer tests run without a network namespace")
    session.run(
        *command,
        external=True,
        env={
            "ULTRALYTICS_PYTHON": python,
            "DATUMARO_PYTHON": str(datumaro / "bin" / "python"),
            "YOLO_OFFLINE": "1",
            "YOLO_SETTINGS_SYNC": "False",
        },
    )
