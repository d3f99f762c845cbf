"""The session's Ray cluster stays on loopback: its addresses, its listening sockets, and
(under ``nox -s ray``, which runs pytest under strace) every connect() its processes made."""

from __future__ import annotations

import ipaddress
import os
import socket
from pathlib import Path

import pytest

from tests.integration.ray.conftest import RayCluster, ray
from tests.integration.ray.loopback_trace import TRACE_ENV, ip_connects, outside_loopback


def _descendants(root: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found: set[int] = set()
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _socket_inodes(pids: set[int]) -> set[str]:
    inodes: set[str] = set()
    for pid in pids:
        try:
            fds = list(Path(f"/proc/{pid}/fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    return inodes


def _listening(inodes: set[str]) -> list[str]:
    """Local addresses of the LISTEN sockets (TCP state 0A) among ``inodes``."""
    found: list[str] = []
    for name in ("tcp", "tcp6"):
        for line in Path(f"/proc/net/{name}").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] != "0A" or fields[9] not in inodes:
                continue
            raw = fields[1].split(":")[0]
            packed = bytes.fromhex(raw)
            # /proc/net prints each 32-bit word in host (little-endian) order
            packed = b"".join(packed[i : i + 4][::-1] for i in range(0, len(packed), 4))
            found.append(str(ipaddress.ip_address(packed)))
    return found


def _loopback(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def test_the_cluster_uses_loopback_addresses(ray_cluster: RayCluster) -> None:
    assert ray.util.get_node_ip_address() == "127.0.0.1"
    assert ray.get_runtime_context().gcs_address.startswith("127.0.0.1:")
    nodes = ray.nodes()
    assert [n["NodeManagerAddress"] for n in nodes] == ["127.0.0.1"]


def test_ray_processes_listen_on_loopback_only(ray_cluster: RayCluster) -> None:
    ray.get(ray.remote(lambda: 1).remote())  # a worker exists
    pids = _descendants(os.getpid())
    listening = _listening(_socket_inodes(pids))
    assert listening, "no listening socket found among the Ray processes"
    assert [a for a in listening if not _loopback(a)] == []


def test_no_connect_beyond_loopback_so_far(ray_cluster: RayCluster) -> None:
    """Read the strace log of this very session (``nox -s ray`` sets it up)."""
    path = os.environ.get(TRACE_ENV)
    if not path:
        pytest.skip(f"not run under strace: {TRACE_ENV} is unset (nox -s ray sets it)")
    ray.get(ray.remote(lambda: 1).remote())
    text = Path(path).read_text(encoding="utf-8", errors="replace")
    assert ip_connects(text) > 0, "the trace saw no IP traffic: strace is not following Ray"
    assert outside_loopback(text) == []


def test_runs_in_a_network_namespace_with_loopback_only_when_isolated() -> None:
    """Under ``nox -s ray`` as root the tests run inside ``unshare -n``: only ``lo`` exists."""
    if os.environ.get("SYNAPSE_RAY_NETNS") != "1":
        pytest.skip("not run inside unshare -n (nox -s ray does that as root)")
    assert [name for _, name in socket.if_nameindex()] == ["lo"]
