"""The derived status of an account and what a planned change does to its MRR
(docs/rules.md R36, R73): as SQL for lists and filters, and as rules for a
row already read."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from core import money


class AccountStatus(StrEnum):
    """Derived status of an account (docs/rules.md R73), in the order the status sort uses."""

    Active = "Active"
    Downgrading = "Downgrading"
    Canceling = "Canceling"
    Canceled = "Canceled"
    Free = "Free"


class AccountState(StrEnum):
    """What the account's pill and the list's status badge say (docs/rules.md
    R122): the tenant's suspension and a failing payment first, then the
    derived status of R73."""

    Suspended = "Suspended"
    PastDue = "PastDue"
    Active = "Active"
    Downgrading = "Downgrading"
    Canceling = "Canceling"
    Canceled = "Canceled"
    Free = "Free"


def account_state(status: AccountStatus, tenant_state: str, payment_failing: bool) -> AccountState:
    """First match wins: Suspended (the tenant is not Active), PastDue (a failed
    payment is being retried: `first_payment_failed_at` is set, R63), else the
    status (R73)."""
    if tenant_state != "Active":
        return AccountState.Suspended
    if payment_failing:
        return AccountState.PastDue
    return AccountState(status.value)


class PlannedChange(StrEnum):
    Cancellation = "Cancellation"
    ScheduledPlanChange = "ScheduledPlanChange"


class Renewal(StrEnum):
    """What the renewal date means (docs/rules.md R77)."""

    Renews = "Renews"
    Expires = "Expires"  # cancels at period end
    Expired = "Expired"  # canceled, or the date has passed


def renewal(status: AccountStatus, renewal_date: datetime | None, now: datetime) -> Renewal:
    """A date in the past never reads "renews": the subscription ran out then."""
    if status is AccountStatus.Canceled or (renewal_date is not None and renewal_date < now):
        return Renewal.Expired
    if status is AccountStatus.Canceling:
        return Renewal.Expires
    return Renewal.Renews


# A tenant with its subscription, as t and s: what the SQL below and the
# accounts list's filters and sorts read.
ACCOUNTS_SQL = "tenants t LEFT JOIN subscriptions s ON s.tenant_id = t.id"
HAS_EVER_SUBSCRIBED_SQL = money.has_ever_subscribed_sql("s")
# A failed payment is being retried (docs/rules.md R63, R122); false without a subscription row.
PAYMENT_FAILING_SQL = "s.first_payment_failed_at IS NOT NULL"

# First match wins (docs/rules.md R73). A tenant without a subscription row has
# no planned change and never paid.
STATUS_SQL = (
    "CASE WHEN s.cancel_at_period_end THEN 'Canceling'"
    " WHEN s.scheduled_plan IS NOT NULL THEN 'Downgrading'"
    " WHEN t.plan <> 'Basis' THEN 'Active'"
    f" WHEN {HAS_EVER_SUBSCRIBED_SQL} THEN 'Canceled'"
    " ELSE 'Free' END"
)

# The same rule as one predicate per status. Each fact about the subscription is
# an EXISTS over a small partial index, so filtering and counting by status never
# reads the subscriptions themselves.
_CANCELING = "EXISTS (SELECT 1 FROM subscriptions x WHERE x.tenant_id = t.id AND x.cancel_at_period_end)"
_DOWNGRADING = (
    "EXISTS (SELECT 1 FROM subscriptions x WHERE x.tenant_id = t.id"
    " AND x.scheduled_plan IS NOT NULL AND NOT x.cancel_at_period_end)"
)
_EVER_SUBSCRIBED = (
    f"EXISTS (SELECT 1 FROM subscriptions x WHERE x.tenant_id = t.id AND {money.has_ever_subscribed_sql('x')})"
)
_NO_PLANNED_CHANGE = f"NOT {_CANCELING} AND NOT {_DOWNGRADING}"
STATUS_PREDICATES: dict[AccountStatus, str] = {
    AccountStatus.Active: f"t.plan <> 'Basis' AND {_NO_PLANNED_CHANGE}",
    AccountStatus.Downgrading: _DOWNGRADING,
    AccountStatus.Canceling: _CANCELING,
    AccountStatus.Canceled: f"t.plan = 'Basis' AND {_NO_PLANNED_CHANGE} AND {_EVER_SUBSCRIBED}",
    AccountStatus.Free: f"t.plan = 'Basis' AND {_NO_PLANNED_CHANGE} AND NOT {_EVER_SUBSCRIBED}",
}


def planned_change(cancel_at_period_end: bool | None, scheduled_plan: str | None) -> PlannedChange | None:
    if cancel_at_period_end:
        return PlannedChange.Cancellation
    if scheduled_plan is not None:
        return PlannedChange.ScheduledPlanChange
    return None


def mrr_changes_at_renewal(
    change: PlannedChange | None, current_price: Decimal | None, scheduled_price: Decimal | None
) -> bool:
    """Canceling: the price goes to 0; downgrading: to the scheduled price, when known."""
    if current_price is None:
        return False
    if change is PlannedChange.Cancellation:
        return True
    return change is PlannedChange.ScheduledPlanChange and scheduled_price is not None


def displayed_forward_mrr(
    current_price: Decimal | None, cancel_at_period_end: bool | None, scheduled_price: Decimal | None
) -> Decimal | None:
    """Forward MRR (core.money), or None where the row shows "-" (no price)."""
    if current_price is None:
        return None
    return money.forward_mrr(current_price, bool(cancel_at_period_end), scheduled_price)
