"""The emulator's chunked_upload routes on the wire (both protocols), expiry, control, CLI."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from synapse_async.emulator import Emulator
from synapse_async.emulator.__main__ import parse_args

pytestmark = pytest.mark.anyio

MIB = 2**20
PART = 5 * MIB


@pytest.fixture
async def http(emulator: Emulator) -> AsyncIterator[aiohttp.ClientSession]:
    headers = {"Synapse-Access-Token": f"Token {emulator.access_token}"}
    async with aiohttp.ClientSession(emulator.url, headers=headers) as session:
        yield session


async def call(http: aiohttp.ClientSession, method: str, url: str, **kw: Any) -> tuple[int, Any]:
    async with http.request(method, url, **kw) as r:
        body = await r.read()
        return r.status, (await r.json(content_type=None)) if body else None


def md5_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


async def put_part(
    http: aiohttp.ClientSession, uid: str, n: int, data: bytes, digest: str | None = None
) -> tuple[int, Any]:
    return await call(
        http,
        "PUT",
        f"chunked_upload/{uid}/parts/{n}/",
        data=data,
        headers={"Content-MD5": digest or md5_b64(data)},
    )


async def test_parallel_protocol_on_the_wire(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    data = os.urandom(2 * PART + 1000)
    parts = [data[:PART], data[PART : 2 * PART], data[2 * PART :]]
    for bad in (
        {"filename": "x", "size": 0, "part_size": PART},
        {"filename": "x", "size": 10, "part_size": PART - 1},
        {"size": 10, "part_size": PART},
    ):
        assert (await call(http, "POST", "chunked_upload/", json=bad))[0] == 400
    status, up = await call(
        http,
        "POST",
        "chunked_upload/",
        json={"filename": "x.bin", "size": len(data), "part_size": PART},
    )
    assert status == 201
    assert up["parallel"] is True and up["part_count"] == 3 and up["part_size"] == PART
    assert up["url"] == f"{emulator.url}chunked_upload/{up['id']}/"
    uid = up["id"]
    sparse = (emulator.data_dir / "files" / f"upload-{uid}").stat()
    assert sparse.st_size == len(data) and sparse.st_blocks * 512 < len(data)  # sparse file
    # wrong size, bad digest, wrong digest, unknown part
    assert (await put_part(http, uid, 1, parts[0][:-1]))[1]["code"] == "size_mismatch"
    assert (await put_part(http, uid, 1, parts[0], "nope"))[1]["code"] == "invalid_digest"
    status, body = await put_part(http, uid, 1, parts[0], md5_b64(b"other"))
    assert status == 400 and body["code"] == "checksum_mismatch"
    assert (await put_part(http, uid, 4, parts[0]))[0] == 404
    # parts in any order; a repeated part replaces the earlier one
    for n in (3, 1, 1):
        status, body = await put_part(http, uid, n, parts[n - 1])
        assert status == 200, body
        assert body == {
            "n": n,
            "size": len(parts[n - 1]),
            "md5": hashlib.md5(parts[n - 1]).hexdigest(),
        }
    status, got = await call(http, "GET", f"chunked_upload/{uid}/")
    assert status == 200 and got["status"] == 1 and got["offset"] == PART  # 1 = uploading
    assert [p["n"] for p in got["parts"]] == [1, 3]
    whole = hashlib.md5(data).hexdigest()
    status, body = await call(http, "POST", f"chunked_upload/{uid}/", json={"md5": whole})
    assert status == 400 and body["code"] == "incomplete" and body["missing"] == [2]
    assert (await put_part(http, uid, 2, parts[1]))[0] == 200
    status, body = await call(http, "POST", f"chunked_upload/{uid}/", json={"md5": "0" * 32})
    assert status == 400 and body["code"] == "checksum_mismatch"
    status, done = await call(http, "POST", f"chunked_upload/{uid}/", json={"md5": whole})
    assert status == 200, done
    assert (done["checksum"], done["size"], done["status"]) == (whole, len(data), 2)
    assert isinstance(done["completed_at"], str)  # as the real backend: 2 = complete + a time
    # completing again with the same MD5 answers the same; parts are closed
    assert await call(http, "POST", f"chunked_upload/{uid}/", json={"md5": whole}) == (200, done)
    assert (await put_part(http, uid, 1, parts[0]))[0] == 400
    assert (await call(http, "DELETE", f"chunked_upload/{uid}/"))[0] == 400
    assert (emulator.data_dir / "files" / f"upload-{uid}").read_bytes() == data
    counters = emulator.uploads.counters_json()["uploads"][uid]
    assert counters["resends"] >= 1 and counters["checksum_mismatches"] == 1
    # a data file over the completed upload
    status, df = await call(http, "POST", "data_files/", json={"chunked_upload": uid})
    assert status == 201 and df["checksum"] == whole and df["size"] == len(data)
    async with http.get(df["file"]) as r:
        assert await r.read() == data
    assert (await call(http, "POST", "data_files/", json={"chunked_upload": "nope"}))[0] == 400


async def test_abort_expiry_and_sweep(emulator: Emulator, http: aiohttp.ClientSession) -> None:
    new = {"filename": "x.bin", "size": PART + 1, "part_size": PART}
    _, up = await call(http, "POST", "chunked_upload/", json=new)
    assert (await call(http, "DELETE", f"chunked_upload/{up['id']}/"))[0] == 204
    assert (await call(http, "GET", f"chunked_upload/{up['id']}/"))[0] == 404
    assert not (emulator.data_dir / "files" / f"upload-{up['id']}").exists()
    emulator.uploads.settings.ttl = 0.2
    _, up = await call(http, "POST", "chunked_upload/", json=new)
    await asyncio.sleep(0.3)
    status, body = await call(http, "GET", f"chunked_upload/{up['id']}/")
    assert status == 410 and body["detail"] == "Upload has expired."
    assert (await put_part(http, up["id"], 2, b"x"))[0] == 410
    emulator.uploads.settings.ttl = 3600
    await call(http, "POST", "chunked_upload/", json=new)  # creating sweeps expired uploads
    assert not (emulator.data_dir / "files" / f"upload-{up['id']}").exists()
    assert (await call(http, "GET", f"chunked_upload/{up['id']}/"))[0] == 404


def v1_form(data: bytes) -> aiohttp.FormData:
    form = aiohttp.FormData()
    form.add_field("filename", "v1.bin")
    form.add_field("file", data, filename="v1.bin", content_type="application/octet-stream")
    return form


async def test_v1_protocol_on_the_wire(emulator: Emulator, http: aiohttp.ClientSession) -> None:
    emulator.uploads.settings.parallel = False
    status, body = await call(
        http, "POST", "chunked_upload/", json={"filename": "x", "size": 1, "part_size": PART}
    )
    assert status == 405 and "not allowed" in body["detail"]
    assert (await call(http, "PUT", "chunked_upload/abc/parts/1/", data=b"x"))[0] == 404
    data = os.urandom(3000)
    status, first = await call(
        http,
        "PUT",
        "chunked_upload/",
        data=v1_form(data[:1000]),
        headers={"Content-Range": "bytes 0-999/3000"},
    )
    assert status == 200 and first["offset"] == 1000
    url = first["url"]
    status, body = await call(
        http,
        "PUT",
        url,
        data=v1_form(data[2000:]),
        headers={"Content-Range": "bytes 2000-2999/3000"},
    )
    assert status == 400 and body["detail"] == "Offsets do not match." and body["offset"] == 1000
    status, body = await call(http, "POST", url, json={"md5": hashlib.md5(data).hexdigest()})
    assert status == 400 and body["code"] == "incomplete"
    for start in (1000, 2000):
        status, body = await call(
            http,
            "PUT",
            url,
            data=v1_form(data[start : start + 1000]),
            headers={"Content-Range": f"bytes {start}-{start + 999}/3000"},
        )
        assert status == 200 and body["offset"] == start + 1000
    status, got = await call(http, "GET", url)
    assert got["offset"] == 3000 and "parts" not in got
    status, done = await call(http, "POST", url, json={"md5": hashlib.md5(data).hexdigest()})
    assert status == 200 and done["filename"] == "v1.bin" and done["size"] == 3000
    assert (emulator.data_dir / "files" / f"upload-{first['id']}").read_bytes() == data
    assert (await call(http, "PUT", "chunked_upload/", data=v1_form(b"x")))[0] == 400  # no range


async def test_control_endpoint(emulator: Emulator, http: aiohttp.ClientSession) -> None:
    status, body = await call(http, "GET", "_emulator/uploads/")
    assert status == 200
    assert body["settings"] == {"parallel": True, "ttl": 86400.0}
    assert body["faults"] == {"dropped_connections": 0, "corrupted_bodies": 0}
    status, body = await call(
        http,
        "PUT",
        "_emulator/uploads/",
        json={"parallel": False, "ttl": 5, "reset_counters": True},
    )
    assert status == 200 and body["settings"] == {"parallel": False, "ttl": 5.0}
    assert emulator.uploads.settings.parallel is False
    for bad in ({"parallel": 1}, {"ttl": -1}, {"nope": True}):
        assert (await call(http, "PUT", "_emulator/uploads/", json=bad))[0] == 400


def test_cli_flags() -> None:
    args = parse_args(
        [
            "--bandwidth",
            "25000000",
            "--drop-rate",
            "0.1",
            "--corrupt-rate",
            "0.02",
            "--no-parallel-uploads",
            "--upload-ttl",
            "60",
        ]
    )
    assert (args.bandwidth, args.drop_rate, args.corrupt_rate) == (25e6, 0.1, 0.02)
    assert args.no_parallel_uploads and args.upload_ttl == 60
    defaults = parse_args([])
    assert defaults.bandwidth is None and not defaults.no_parallel_uploads


@pytest.mark.parametrize("status", ["complete", "Completed", 2, "2"])
def test_sdk_reads_both_spellings_of_complete(status: object) -> None:
    from synapse_async.models.uploads import ChunkedUpload

    assert ChunkedUpload(id="u", status=status).is_complete
    assert not ChunkedUpload(id="u", status=1).is_complete
