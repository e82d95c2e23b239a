from decimal import Decimal

import pytest

from db.enums import SubscriptionPlan
from stripe_sync.catalog import PriceCatalog

PRICES = [
    {
        "id": "price_std",
        "lookup_key": "standard_monthly",
        "unit_amount": 14900,
        "currency": "dkk",
        "product": "prod_std",
        "recurring": {"interval": "month"},
    },
    {
        "id": "price_prm",
        "lookup_key": "premium_monthly",
        "unit_amount": 29900,
        "currency": "dkk",
        "product": "prod_prm",
    },
    {"id": "price_other", "lookup_key": "addon", "unit_amount": 100, "currency": "dkk"},
]


def test_catalog_maps_lookup_keys_to_plans_and_ignores_others() -> None:
    catalog = PriceCatalog.from_stripe(PRICES)
    assert catalog.plan_for_price("price_std") is SubscriptionPlan.Standard
    assert catalog.plan_for_product("prod_prm") is SubscriptionPlan.Premium
    assert catalog.plan_for_price("price_other") is None
    assert catalog.price_of("Premium") == Decimal("299.00")
    assert catalog.price_of(SubscriptionPlan.Basis) is None
    assert catalog.currency == "DKK"


def test_legacy_plan_objects_map_by_id() -> None:
    catalog = PriceCatalog.from_stripe(
        [{"id": "standard_monthly", "object": "plan", "amount": 14900, "currency": "eur"}]
    )
    assert catalog.plan_for_price("standard_monthly") is SubscriptionPlan.Standard
    assert catalog.currency == "EUR"


def test_mixed_currencies_are_refused() -> None:
    catalog = PriceCatalog.from_stripe([PRICES[0], {**PRICES[1], "currency": "eur"}])
    with pytest.raises(ValueError, match="mixes currencies"):
        _ = catalog.currency
