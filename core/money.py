"""The money rules, each written once (docs/rules.md R30, R35, R45, R50, R71).

Every caller (KPI tiles, banners, account rows, drift checks) goes through these:
the Python functions for one subscription in memory, the SQL fragments for
aggregations that run inside PostgreSQL. A test keeps the two in agreement.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

ZERO = Decimal("0.00")
CENT = Decimal("0.01")

# MRR policy, shown next to the number in the console.
MRR_POLICY = (
    "Forward MRR: 0 when the subscription cancels at period end; the scheduled price "
    "when a downgrade is queued; otherwise the current price. Ex-VAT, platform currency."
)


def forward_mrr(
    current_price_amount: Decimal | None,
    cancel_at_period_end: bool,
    scheduled_price_amount: Decimal | None,
) -> Decimal:
    """Forward MRR of one subscription (docs/rules.md R30)."""
    if current_price_amount is None or cancel_at_period_end:
        return ZERO
    if scheduled_price_amount is not None:
        return scheduled_price_amount
    return current_price_amount


def forward_mrr_sql(alias: str = "s") -> str:
    """The same rule as a SQL expression over a subscriptions row alias."""
    return (
        f"CASE WHEN {alias}.current_price_amount IS NULL OR {alias}.cancel_at_period_end THEN 0"
        f" ELSE COALESCE({alias}.scheduled_price_amount, {alias}.current_price_amount) END"
    )


def is_revenue_transaction(transaction: Mapping[str, Any]) -> bool:
    """A transaction that counts as revenue (LTV, total revenue): succeeded,
    not credit-noted, not refunded, not even in part (docs/rules.md R45)."""
    return (
        transaction.get("Status") == "Succeeded"
        and transaction.get("CreditNoteUrl") is None
        and transaction.get("RefundedAt") is None
    )


def lifetime_value(transactions: Iterable[Mapping[str, Any]]) -> Decimal:
    """Sum of AmountExcludingTax over revenue transactions (docs/rules.md R50)."""
    total = sum(
        (Decimal(str(t["AmountExcludingTax"])) for t in transactions if is_revenue_transaction(t)),
        ZERO,
    )
    return total.quantize(CENT)


# A jsonb element `t` (from jsonb_array_elements) that counts as revenue.
REVENUE_TRANSACTION_SQL = (
    "(t->>'Status' = 'Succeeded'"
    " AND (t->'CreditNoteUrl' IS NULL OR jsonb_typeof(t->'CreditNoteUrl') = 'null')"
    " AND (t->'RefundedAt' IS NULL OR jsonb_typeof(t->'RefundedAt') = 'null'))"
)


def lifetime_value_sql(alias: str = "s") -> str:
    """LTV of a subscriptions row alias, as a SQL scalar subquery."""
    return (
        "(SELECT COALESCE(SUM((t->>'AmountExcludingTax')::numeric), 0)"
        f" FROM jsonb_array_elements({alias}.payment_transactions) AS t WHERE {REVENUE_TRANSACTION_SQL})"
    )


def has_ever_subscribed_sql(alias: str = "s") -> str:
    """Any Succeeded or Refunded payment (docs/rules.md R71: one rule everywhere)."""
    return (
        f"jsonb_path_exists({alias}.payment_transactions,"
        ' \'$[*] ? (@.Status == "Succeeded" || @.Status == "Refunded")\')'
    )


def has_ever_subscribed(transactions: Iterable[Mapping[str, Any]]) -> bool:
    return any(t.get("Status") in ("Succeeded", "Refunded") for t in transactions)


def percent_change(current: Decimal | int, prior: Decimal | int, places: int = 1) -> Decimal | None:
    """Delta in percent, banker's rounding (docs/rules.md R35, R85); None when prior is 0."""
    if not prior:
        return None
    change = (Decimal(current) - Decimal(prior)) / Decimal(prior) * 100
    return change.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)
