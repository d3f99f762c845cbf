"""``_emulator/``: the emulator's own control surface (health, faults, seeding).

``GET _emulator/health/`` needs no token; the others need the access token like the API.
Faults never apply here.
"""

from __future__ import annotations

from aiohttp import web

from ..errors import bad_request, read_json
from ..faults import Faults
from ..keys import FAULTS
from ..seed import Seeder
from ..store import Store
from .params import body_object

__all__ = ["setup"]

SEEDER = web.AppKey("seeder", Seeder)


async def health(request: web.Request) -> web.Response:
    """``GET _emulator/health/`` -> ``{"ok": true}``."""
    return web.json_response({"ok": True})


async def get_faults(request: web.Request) -> web.Response:
    """``GET _emulator/faults/`` -> ``{"faults", "counters", "replies", "concurrency"}``.

    ``replies``: lost and lying replies; ``concurrency``: API requests in flight now and the
    peak since the counters were reset (``PUT _emulator/faults/?reset_counters=1`` resets).
    """
    injector = request.app[FAULTS]
    return web.json_response(
        {
            "faults": injector.faults.to_dict(),
            "counters": injector.counters,
            "replies": injector.reply_counters,
            "concurrency": injector.concurrency,
        }
    )


async def put_faults(request: web.Request) -> web.Response:
    """``PUT _emulator/faults/`` a JSON object of Faults fields: replaces the faults."""
    try:
        faults = Faults.from_dict(await read_json(request))
    except ValueError as exc:
        raise bad_request(str(exc)) from None
    injector = request.app[FAULTS]
    injector.set(faults)
    if request.query.get("reset_counters") in ("1", "true"):
        injector.reset_counters()
    return web.json_response({"faults": faults.to_dict(), "counters": injector.counters})


async def seed(request: web.Request) -> web.Response:
    """``POST _emulator/seed/`` ``{"kind": ..., **args}`` -> 201 what the helper returned."""
    args = dict(body_object(await read_json(request)))
    kind = args.pop("kind", None)
    if not isinstance(kind, str):
        raise bad_request({"kind": ["This field is required."]})
    try:
        result = request.app[SEEDER].run(kind, args)
    except (TypeError, ValueError) as exc:  # TypeError: arguments of the wrong JSON type
        raise bad_request(str(exc)) from None
    return web.json_response(result, status=201)


def setup(app: web.Application, store: Store) -> None:
    """Register the control routes (and the seeder they use)."""
    app[SEEDER] = Seeder(store)
    r = app.router
    r.add_get("/_emulator/health/", health)
    r.add_get("/_emulator/faults/", get_faults)
    r.add_put("/_emulator/faults/", put_faults)
    r.add_post("/_emulator/seed/", seed)
