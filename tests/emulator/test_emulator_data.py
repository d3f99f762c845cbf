from __future__ import annotations

import hashlib
import io
import os

import aiohttp
from yarl import URL

from tests.emulator.emulator_helpers import get_json, post_json, run, serve


def test_data_collection_expand_file_specifications() -> None:
    async def scenario() -> None:
        async with serve() as (_emu, http):
            specs = [{"name": "image_1", "file_type": "image", "is_required": True}]
            status, coll = await post_json(
                http, "data_collections/", {"name": "C", "file_specifications": specs}
            )
            assert status == 201
            assert coll["file_specifications"] == specs
            status, plain = await get_json(http, f"data_collections/{coll['id']}/")
            assert status == 200 and "file_specifications" not in plain
            assert plain["name"] == "C"
            _, expanded = await get_json(
                http, f"data_collections/{coll['id']}/?expand=file_specifications"
            )
            assert expanded["file_specifications"] == specs
            _, page = await get_json(http, "data_collections/")
            assert page["count"] == 1 and "file_specifications" not in page["results"][0]
            assert (await post_json(http, "data_collections/", {}))[0] == 400
            assert (await get_json(http, "data_collections/9/"))[0] == 404

    run(scenario())


def test_multipart_upload_checksum_size_and_bytes_served() -> None:
    payload = os.urandom(3 * 2**20 + 123)

    async def scenario() -> None:
        async with serve() as (emu, http):
            form = aiohttp.FormData()
            form.add_field(
                "file",
                io.BytesIO(payload),
                filename="blob.bin",
                content_type="application/octet-stream",
            )
            async with http.post("data_files/", data=form) as r:
                assert r.status == 201
                created = await r.json()
            assert created["checksum"] == hashlib.md5(payload).hexdigest()
            assert created["size"] == len(payload)
            assert created["filename"] == "blob.bin"
            file_url = URL(created["file"])
            assert file_url.is_absolute()
            assert str(file_url) == f"{emu.url}_emulator/files/{created['id']}/"
            async with http.get(file_url) as r:
                assert r.status == 200
                assert await r.read() == payload
            assert await get_json(http, f"data_files/{created['id']}/") == (200, created)
            stored = list((emu.data_dir / "files").iterdir())
            assert len(stored) == 1 and stored[0].read_bytes() == payload

            # explicit filename field (sent after the file) wins
            form = aiohttp.FormData()
            form.add_field("file", b"hello", filename="x.txt")
            form.add_field("filename", "greeting.txt")
            async with http.post("data_files/", data=form) as r:
                second = await r.json()
            assert second["filename"] == "greeting.txt"
            assert second["checksum"] == hashlib.md5(b"hello").hexdigest()

            status, body = await post_json(
                http,
                "data_files/verify_checksums/",
                {"checksums": [created["checksum"], "0" * 32, second["checksum"]]},
            )
            assert status == 200
            assert body == {
                "existing": {created["checksum"]: created["id"], second["checksum"]: second["id"]}
            }
            # no file part
            form = aiohttp.FormData()
            form.add_field("filename", "nothing")
            async with http.post("data_files/", data=form) as r:
                assert r.status == 400
            assert (await get_json(http, "_emulator/files/999/"))[0] == 404

    run(scenario())


def test_data_units_create_batch_reply_shape_and_local_paths_accepted() -> None:
    async def scenario() -> None:
        async with serve() as (emu, http):
            coll = emu.seed.data_collection()
            other = emu.seed.data_collection(name="other")
            unit = {
                "data_collection": coll["id"],
                "files": {"image_1": {"checksum": "a" * 32, "path": "images/1.jpg"}},
                "meta": {"k": "v"},
            }
            status, reply = await post_json(http, "data_units/", [unit, {**unit, "groups": [1]}])
            assert status == 201
            # A batch is answered as the real backend does: an object with the results.
            assert reply["count"] == 2
            created = reply["results"]
            assert [u["id"] for u in created] == [1, 2]
            assert created[0]["files"] == unit["files"]
            assert created[0]["groups"] == [] and created[1]["groups"] == [1]
            assert created[0]["meta"] == {"k": "v"}
            assert "created" in created[0]
            assert await get_json(http, "data_units/1/") == (200, created[0])
            emu.seed.data_units(other["id"], 3)
            _, page = await get_json(http, f"data_units/?data_collection={coll['id']}")
            assert page["count"] == 2
            # The official client sends str(local path): the real API takes it as given.
            for local in ("/home/me/1.jpg", "C:\\data\\1.jpg"):
                files = {"image_1": {"checksum": "a" * 32, "path": local}}
                status, reply = await post_json(http, "data_units/", [{**unit, "files": files}])
                assert status == 201, local
                assert reply["results"][0]["files"]["image_1"]["path"] == local
            bad = {**unit, "files": {"image_1": {"checksum": "a" * 32, "path": 5}}}
            assert (await post_json(http, "data_units/", [bad]))[0] == 400
            # One object: one unit, answered as the object itself.
            status, one = await post_json(http, "data_units/", unit)
            assert status == 201 and one["data_collection"] == coll["id"] and "id" in one
            assert (await post_json(http, "data_units/", []))[0] == 400
            assert (await post_json(http, "data_units/", [unit] * 1001))[0] == 400
            missing = {**unit, "data_collection": 99}
            assert (await post_json(http, "data_units/", [missing]))[0] == 400
            assert emu.store.count("data_units") == 8

    run(scenario())
