"""The Stripe price catalog: which price is which plan, at what amount.

Prices are found by lookup key (`standard_monthly`, `premium_monthly`;
docs/rules.md R38); legacy Plan objects (APIs that return no Price) map the same way
through their product or nickname. Amounts are ex-VAT major units (Decimal).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from db.enums import SubscriptionPlan

LOOKUP_KEYS: dict[str, SubscriptionPlan] = {
    "standard_monthly": SubscriptionPlan.Standard,
    "premium_monthly": SubscriptionPlan.Premium,
}


@dataclass(frozen=True)
class CatalogPrice:
    price_id: str
    plan: SubscriptionPlan
    unit_amount: Decimal  # ex-VAT, major units
    currency: str  # upper case ISO 4217
    product_id: str | None = None
    interval: str = "month"
    interval_count: int = 1
    tax_inclusive: bool = False


def minor_to_major(amount: int | None) -> Decimal | None:
    return None if amount is None else (Decimal(amount) / 100).quantize(Decimal("0.01"))


def plan_for_lookup_key(lookup_key: str | None) -> SubscriptionPlan | None:
    return LOOKUP_KEYS.get(lookup_key or "")


@dataclass(frozen=True)
class PriceCatalog:
    prices: tuple[CatalogPrice, ...] = ()
    _by_price: dict[str, CatalogPrice] = field(default_factory=dict, init=False, repr=False, compare=False)
    _by_plan: dict[SubscriptionPlan, CatalogPrice] = field(default_factory=dict, init=False, repr=False, compare=False)
    _by_product: dict[str, SubscriptionPlan] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for price in self.prices:
            self._by_price[price.price_id] = price
            self._by_plan.setdefault(price.plan, price)
            if price.product_id:
                self._by_product[price.product_id] = price.plan

    @classmethod
    def from_stripe(cls, objects: Iterable[Mapping[str, Any]]) -> PriceCatalog:
        """Build from Stripe Price objects (or legacy Plan objects): those whose
        lookup key (Price) or id/nickname (Plan) names a plan; others ignored."""
        prices = []
        for obj in objects:
            plan = (
                plan_for_lookup_key(obj.get("lookup_key"))
                or plan_for_lookup_key(obj.get("id"))
                or plan_for_lookup_key(obj.get("nickname"))
            )
            if plan is None:
                continue
            amount = obj.get("unit_amount", obj.get("amount"))
            recurring = obj.get("recurring") or {}
            prices.append(
                CatalogPrice(
                    price_id=obj["id"],
                    plan=plan,
                    unit_amount=minor_to_major(amount) or Decimal("0.00"),
                    currency=str(obj.get("currency", "")).upper(),
                    product_id=obj.get("product") if isinstance(obj.get("product"), str) else None,
                    interval=recurring.get("interval") or obj.get("interval") or "month",
                    interval_count=recurring.get("interval_count") or obj.get("interval_count") or 1,
                    tax_inclusive=obj.get("tax_behavior") == "inclusive",
                )
            )
        return cls(tuple(prices))

    def plan_for_price(self, price_id: str | None) -> SubscriptionPlan | None:
        price = self._by_price.get(price_id or "")
        return price.plan if price else None

    def plan_for_product(self, product_id: str | None) -> SubscriptionPlan | None:
        return self._by_product.get(product_id or "")

    def price_of(self, plan: SubscriptionPlan | str | None) -> Decimal | None:
        if plan is None:
            return None
        price = self._by_plan.get(SubscriptionPlan(plan))
        return price.unit_amount if price else None

    def price_for_plan(self, plan: SubscriptionPlan) -> CatalogPrice | None:
        return self._by_plan.get(plan)

    @property
    def currency(self) -> str | None:
        """The platform currency: the single currency of the catalog."""
        currencies = {price.currency for price in self.prices}
        if len(currencies) > 1:
            raise ValueError(f"the Stripe price catalog mixes currencies: {', '.join(sorted(currencies))}")
        return currencies.pop() if currencies else None
