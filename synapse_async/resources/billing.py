"""Billing (EXT): the account's credit balance."""

from __future__ import annotations

from synapse_async.models import Balance
from synapse_async.resources._base import AsyncResource

__all__ = ["AsyncBilling"]


class AsyncBilling(AsyncResource):
    """``client.billing``: credits that pay project deposits."""

    async def get_balance(self) -> Balance:
        """The balance: ``available`` credits and those ``reserved`` by paid deposits."""
        return self._decode(await self._http.request("GET", "billing/balance/"), Balance)
