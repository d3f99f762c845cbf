"""Check an ``strace -f -e trace=connect`` log: every IP connect went to loopback.

``nox -s ray`` runs pytest under strace and sets ``SYNAPSE_RAY_CONNECT_TRACE`` to the log; a
test reads it while the session runs and this module's ``main`` reads it again once every Ray
process has exited (``python -m tests.integration.ray.loopback_trace LOG``).
"""

from __future__ import annotations

import ipaddress
import re
import sys
from pathlib import Path

TRACE_ENV = "SYNAPSE_RAY_CONNECT_TRACE"

_INET = re.compile(r'sin_addr=inet_addr\("([^"]+)"\)')
_INET6 = re.compile(r'inet_pton\(AF_INET6, "([^"]+)"')


def _is_loopback(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def outside_loopback(text: str) -> list[str]:
    """The connect() lines of an strace log whose IPv4/IPv6 address is not loopback.

    AF_UNIX and AF_NETLINK sockets are local by nature and pass; an IP connect that failed
    (e.g. ENETUNREACH inside a network namespace) still counts: it was an attempt to leave.
    """
    bad: list[str] = []
    for line in text.splitlines():
        if "connect(" not in line:
            continue
        if "AF_INET6" in line:
            match = _INET6.search(line)
        elif "AF_INET" in line:
            match = _INET.search(line)
        else:
            continue
        if match is None or not _is_loopback(match.group(1)):
            bad.append(line.strip())
    return bad


def ip_connects(text: str) -> int:
    """How many IP connect() calls the log holds (proves the trace saw Ray's traffic)."""
    return sum(1 for line in text.splitlines() if "connect(" in line and "AF_INET" in line)


def main(argv: list[str]) -> int:
    """Exit 1 and print the offending lines when the log shows a connect beyond loopback."""
    text = Path(argv[0]).read_text(encoding="utf-8", errors="replace")
    bad = outside_loopback(text)
    if bad:
        print(f"{len(bad)} connect() call(s) beyond loopback:", *bad[:20], sep="\n")
        return 1
    if ip_connects(text) == 0:
        print("the trace holds no IP connect() at all: was strace following the Ray processes?")
        return 1
    print(f"loopback only: {ip_connects(text)} IP connect() calls, all to 127.0.0.1 or ::1")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
