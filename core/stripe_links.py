"""Links to Stripe's dashboard for the Stripe ids an account carries
(docs/rules.md R120): pure functions, no database, no Stripe call.

The dashboard has one address per object kind, with `/test` after the host in
test mode. The mode is the configured key's: a secret or restricted test key
(`sk_test_`, `rk_test_`) means test mode, any other key live mode; without a
key the mode is unknown, nothing is said about it and the live address is
given (a test object's page then asks the operator to switch modes).
"""

from __future__ import annotations

from enum import StrEnum

DASHBOARD = "https://dashboard.stripe.com"

# A Stripe id's prefix and the dashboard's path for that kind of object.
_PATHS = {"cus_": "customers", "sub_": "subscriptions", "in_": "invoices"}
_TEST_KEY_PREFIXES = ("sk_test_", "rk_test_")


class StripeMode(StrEnum):
    live = "live"
    test = "test"


def stripe_mode(api_key: str | None) -> StripeMode | None:
    """Test for a test key, live for any other key, None without one."""
    if not api_key:
        return None
    return StripeMode.test if api_key.startswith(_TEST_KEY_PREFIXES) else StripeMode.live


def dashboard_url(stripe_id: str | None, api_key: str | None) -> str | None:
    """The dashboard page of a customer (`cus_`), subscription (`sub_`) or
    invoice (`in_`); None for no id or an id of another kind."""
    if not stripe_id:
        return None
    path = next((path for prefix, path in _PATHS.items() if stripe_id.startswith(prefix)), None)
    if path is None or not stripe_id.partition("_")[2] or not _is_id(stripe_id):
        return None
    test = "/test" if stripe_mode(api_key) is StripeMode.test else ""
    return f"{DASHBOARD}{test}/{path}/{stripe_id}"


def _is_id(stripe_id: str) -> bool:
    """Stripe ids are letters, digits and underscores: nothing that could
    change the address's path or end the terminal's hyperlink."""
    return all(char.isascii() and (char.isalnum() or char == "_") for char in stripe_id)


def customer_url(customer_id: str | None, api_key: str | None) -> str | None:
    return dashboard_url(customer_id, api_key) if customer_id and customer_id.startswith("cus_") else None


def subscription_url(subscription_id: str | None, api_key: str | None) -> str | None:
    return dashboard_url(subscription_id, api_key) if subscription_id and subscription_id.startswith("sub_") else None


def invoice_url(invoice_id: str | None, api_key: str | None) -> str | None:
    return dashboard_url(invoice_id, api_key) if invoice_id and invoice_id.startswith("in_") else None
