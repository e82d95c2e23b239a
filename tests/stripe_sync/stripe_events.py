"""Stripe-shaped events for the ledger tests.

`recorded(name)` loads a captured event from fixtures/ (Stripe API version
2025-10-29.clover shapes: subscription updates, schedules and prices are what the
local emulator cannot produce); `event(...)` builds a minimal one in the same
shape for rule-by-rule tests.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from db.enums import SubscriptionPlan
from stripe_sync.catalog import CatalogPrice, PriceCatalog

FIXTURES = Path(__file__).parent / "fixtures" / "events"
API_VERSION = "2025-10-29.clover"


def catalog(standard: str | None = "29.00", premium: str | None = "99.00", currency: str = "USD") -> PriceCatalog:
    """The unit-test price map: price_standard -> Standard, price_premium -> Premium."""
    prices = []
    if standard is not None:
        prices.append(
            CatalogPrice("price_standard", SubscriptionPlan.Standard, Decimal(standard), currency, "prod_standard")
        )
    if premium is not None:
        prices.append(
            CatalogPrice("price_premium", SubscriptionPlan.Premium, Decimal(premium), currency, "prod_premium")
        )
    return PriceCatalog(tuple(prices))


@cache
def _raw(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def recorded(
    name: str,
    *,
    id: str | None = None,
    created: datetime | int | None = None,
    customer: str | None = None,
    **object_changes: Any,
) -> dict[str, Any]:
    """A captured event, optionally with another id, time, customer or object fields."""
    payload = copy.deepcopy(_raw(name))
    if id is not None:
        payload["id"] = id
    if created is not None:
        payload["created"] = _unix(created)
    obj = payload["data"]["object"]
    if customer is not None:
        if obj.get("object") == "customer":
            obj["id"] = customer
        else:
            obj["customer"] = customer
    obj.update(object_changes)
    return payload


def event(
    type: str,
    *,
    id: str,
    created: datetime | int | float,
    obj: dict[str, Any] | None = None,
    previous: Any = None,
    api_version: str = API_VERSION,
) -> dict[str, Any]:
    data: dict[str, Any] = {"object": obj if obj is not None else {}}
    if previous is not None:
        data["previous_attributes"] = previous
    return {
        "id": id,
        "object": "event",
        "type": type,
        "created": _unix(created),
        "api_version": api_version,
        "data": data,
    }


def items(*prices: dict[str, Any] | str) -> dict[str, Any]:
    """`items` of a subscription: price ids or price objects."""
    data = [{"price": price if isinstance(price, dict) else {"id": price}} for price in prices]
    return {"object": "list", "data": data}


def price(id: str, unit_amount: int | None = None, currency: str | None = None) -> dict[str, Any]:
    value: dict[str, Any] = {"id": id, "object": "price"}
    if unit_amount is not None:
        value["unit_amount"] = unit_amount
    if currency is not None:
        value["currency"] = currency
    return value


def _unix(value: datetime | int | float) -> int | float:
    if isinstance(value, datetime):
        seconds = value.timestamp()
        return int(seconds) if seconds == int(seconds) else seconds
    return value


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)
