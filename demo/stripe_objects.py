"""Stripe-shaped objects and events (API version 2025-10-29.clover), trimmed to
the fields a Stripe payload really carries and the pipeline reads.

Every builder returns a fresh dict; times are Unix seconds as in Stripe's JSON."""

from __future__ import annotations

import random
import string
from datetime import datetime
from decimal import Decimal
from typing import Any

from db.enums import SubscriptionPlan
from stripe_sync.catalog import LOOKUP_KEYS, CatalogPrice, PriceCatalog

API_VERSION = "2025-10-29.clover"
ACCOUNT = "acct_1BackofficeDemo01"
_ALPHANUMERIC = string.ascii_letters + string.digits
_LOOKUP_KEY_OF = {plan: key for key, plan in LOOKUP_KEYS.items()}
PRODUCT_IDS = {SubscriptionPlan.Standard: "prod_standard", SubscriptionPlan.Premium: "prod_premium"}
PRICE_IDS = {SubscriptionPlan.Standard: "price_standard_monthly", SubscriptionPlan.Premium: "price_premium_monthly"}
PLAN_PRICES = {SubscriptionPlan.Standard: Decimal("149.00"), SubscriptionPlan.Premium: Decimal("299.00")}
CURRENCY = "DKK"
PRICES_CREATED = 1735689600  # 2025-01-01: the catalog predates every demo customer


def demo_catalog() -> PriceCatalog:
    """The price catalog the demo data is billed against."""
    return PriceCatalog(
        tuple(
            CatalogPrice(
                price_id=PRICE_IDS[plan],
                plan=plan,
                unit_amount=PLAN_PRICES[plan],
                currency=CURRENCY,
                product_id=PRODUCT_IDS[plan],
            )
            for plan in (SubscriptionPlan.Standard, SubscriptionPlan.Premium)
        )
    )


def stripe_id(rng: random.Random, prefix: str, length: int = 24) -> str:
    """A Stripe-style object id: `evt_1Q...`, `sub_1Q...`, `cus_...`."""
    return f"{prefix}_1{''.join(rng.choices(_ALPHANUMERIC, k=length - 1))}"


def ts(at: datetime) -> int:
    return int(at.timestamp())


def minor(amount: Decimal) -> int:
    return int(amount * 100)


def price(catalog_price: CatalogPrice) -> dict[str, Any]:
    unit_amount = minor(catalog_price.unit_amount)
    return {
        "id": catalog_price.price_id,
        "object": "price",
        "active": True,
        "billing_scheme": "per_unit",
        "created": PRICES_CREATED,
        "currency": catalog_price.currency.lower(),
        "livemode": False,
        "lookup_key": _LOOKUP_KEY_OF[catalog_price.plan],
        "metadata": {},
        "nickname": catalog_price.plan.value,
        "product": catalog_price.product_id,
        "recurring": {"interval": "month", "interval_count": 1, "usage_type": "licensed"},
        "tax_behavior": "exclusive",
        "type": "recurring",
        "unit_amount": unit_amount,
        "unit_amount_decimal": str(unit_amount),
    }


def event(
    event_id: str,
    event_type: str,
    created: int,
    data_object: dict[str, Any],
    previous_attributes: dict[str, Any] | None = None,
    *,
    request_id: str | None = None,
    idempotency_key: str | None = None,
) -> dict[str, Any]:
    data: dict[str, Any] = {"object": data_object}
    if previous_attributes is not None:
        data["previous_attributes"] = previous_attributes
    return {
        "id": event_id,
        "object": "event",
        "api_version": API_VERSION,
        "created": created,
        "data": data,
        "livemode": False,
        "pending_webhooks": 0,
        "request": {"id": request_id, "idempotency_key": idempotency_key},
        "type": event_type,
    }


def address(billing_address: dict[str, str | None] | None) -> dict[str, str | None] | None:
    """Our billing_info Address as Stripe's address object."""
    if billing_address is None:
        return None
    return {
        "city": billing_address["City"],
        "country": billing_address["Country"],
        "line1": billing_address["Line1"],
        "line2": billing_address["Line2"],
        "postal_code": billing_address["PostalCode"],
        "state": billing_address["State"],
    }


def customer(
    customer_id: str,
    created: int,
    billing_info: dict[str, Any],
    *,
    tenant_id: int,
    invoice_prefix: str,
    default_payment_method: str | None,
    preferred_locale: str,
    tax_exempt: str,
    with_tax_ids: bool = False,
) -> dict[str, Any]:
    document = {
        "id": customer_id,
        "object": "customer",
        "address": address(billing_info["Address"]),
        "balance": 0,
        "created": created,
        "currency": "dkk",
        "default_source": None,
        "delinquent": False,
        "description": None,
        "email": billing_info["Email"],
        "invoice_prefix": invoice_prefix,
        "invoice_settings": {
            "custom_fields": None,
            "default_payment_method": default_payment_method,
            "footer": None,
            "rendering_options": None,
        },
        "livemode": False,
        "metadata": {"tenant_id": str(tenant_id)},
        "name": billing_info["Name"],
        "phone": None,
        "preferred_locales": [preferred_locale],
        "shipping": None,
        "tax_exempt": tax_exempt,
        "test_clock": None,
    }
    if with_tax_ids:  # an expandable field: only when the caller asks for it
        tax_id = billing_info["TaxId"]
        document["tax_ids"] = {
            "object": "list",
            "data": [{"id": f"txi_{customer_id[4:]}", "object": "tax_id", "type": "eu_vat", "value": tax_id}]
            if tax_id
            else [],
            "has_more": False,
        }
    return document


def payment_method(
    payment_method_id: str,
    created: int,
    customer_id: str,
    card: dict[str, Any] | None,
    billing_info: dict[str, Any],
) -> dict[str, Any]:
    """A card (Stripe's card fields), or Stripe Link when `card` is None."""
    is_link = card is None
    return {
        "id": payment_method_id,
        "object": "payment_method",
        "allow_redisplay": "always",
        "billing_details": {
            "address": address(billing_info["Address"]),
            "email": billing_info["Email"],
            "name": billing_info["Name"],
            "phone": None,
        },
        "card": card,
        "created": created,
        "customer": customer_id,
        "link": {"email": billing_info["Email"]} if is_link else None,
        "livemode": False,
        "metadata": {},
        "type": "link" if is_link else "card",
    }


def subscription_items(
    subscription_id: str,
    item_id: str,
    item_created: int,
    plan_price: dict[str, Any],
    period_start: int,
    period_end: int,
) -> dict[str, Any]:
    return {
        "object": "list",
        "data": [
            {
                "id": item_id,
                "object": "subscription_item",
                "created": item_created,
                "current_period_end": period_end,
                "current_period_start": period_start,
                "metadata": {},
                "price": plan_price,
                "quantity": 1,
                "subscription": subscription_id,
                "tax_rates": [],
            }
        ],
        "has_more": False,
        "total_count": 1,
        "url": f"/v1/subscription_items?subscription={subscription_id}",
    }


def invoice_line(
    line_id: str,
    amount: int,
    description: str,
    catalog_price: CatalogPrice,
    period_start: int,
    period_end: int,
    *,
    proration: bool,
) -> dict[str, Any]:
    unit_amount = minor(catalog_price.unit_amount)
    return {
        "id": line_id,
        "object": "line_item",
        "amount": amount,
        "currency": catalog_price.currency.lower(),
        "description": description,
        "discountable": not proration,
        "livemode": False,
        "metadata": {},
        "period": {"end": period_end, "start": period_start},
        "pricing": {
            "price_details": {"price": catalog_price.price_id, "product": catalog_price.product_id},
            "type": "price_details",
            "unit_amount_decimal": str(unit_amount),
        },
        "quantity": 1,
        "parent": {
            "subscription_item_details": {"proration": proration},
            "type": "subscription_item_details",
        },
    }
