"""Find an account by a Stripe id it carries (docs/rules.md R123): the
customer (`cus_…`) or subscription (`sub_…`) id, matched exactly, for the
command palette. The customer id goes through the unique partial index
`ix_subscriptions_stripe_customer_id`; no index holds subscription ids, so a
`sub_` lookup reads the subscriptions table (one row per account)."""

from __future__ import annotations

from sqlalchemy import Connection, text

from core.accounts import AccountRow, accounts_by_id

STRIPE_ID_PREFIXES = ("cus_", "sub_")

_COLUMN = {"cus_": "stripe_customer_id", "sub_": "stripe_subscription_id"}


def is_stripe_account_id(term: str) -> bool:
    """A customer or subscription id: its prefix and at least one more character."""
    term = term.strip()
    return term.startswith(STRIPE_ID_PREFIXES) and len(term) > 4 and " " not in term


def account_by_stripe_id(conn: Connection, stripe_id: str) -> AccountRow | None:
    """The live account whose subscription carries this id exactly (case matters,
    as in Stripe); None for none, a soft-deleted account, or another kind of id."""
    stripe_id = stripe_id.strip()
    if not is_stripe_account_id(stripe_id):
        return None
    column = _COLUMN[stripe_id[:4]]
    tenant_id = conn.execute(
        text(
            f"SELECT t.id FROM subscriptions s JOIN tenants t ON t.id = s.tenant_id"
            f" WHERE s.{column} = :stripe_id AND t.deleted_at IS NULL LIMIT 1"
        ),
        {"stripe_id": stripe_id},
    ).scalar_one_or_none()
    if tenant_id is None:
        return None
    rows = accounts_by_id(conn, [tenant_id])
    return rows[0] if rows else None
