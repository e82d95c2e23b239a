"""Accounts per plan, and paid / trial / canceled / free (docs/rules.md R75: both).

Live tenants only. paid + canceled + free = total; trial is the part of free
whose tenant is Active (docs/rules.md R74, R75: trial = Active on Basis, never paid;
free = on Basis, never paid; canceled = on Basis, ever paid).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from sqlalchemy import Connection, text

from core.account_classes import CLASS_COUNTS, tenants_sum
from db.enums import SubscriptionPlan

# The live class counts kept by triggers (docs/rules.md R190), per plan.
PLAN_COUNTS_SQL = text(
    f"""
    SELECT plan,
           {tenants_sum()} AS tenant_count,
           {tenants_sum("ever_paid")} AS ever_paid,
           {tenants_sum("NOT ever_paid AND active")} AS active_never_paid
    FROM {CLASS_COUNTS}
    WHERE live
    GROUP BY plan
    HAVING sum(tenants) <> 0
    """
)


@dataclass(frozen=True)
class PlanShare:
    plan: SubscriptionPlan
    count: int
    percentage: Decimal  # one decimal, banker's rounding; 0 when there are no tenants


@dataclass(frozen=True)
class PlanDistribution:
    total_tenants: int
    distribution: tuple[PlanShare, ...]  # every plan, in plan order
    paid_tenants: int
    trial_tenants: int
    canceled_tenants: int
    free_tenants: int


def share(count: int, total: int) -> Decimal:
    if total == 0:
        return Decimal("0.0")
    return (Decimal(count) / Decimal(total) * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_EVEN)


def plan_distribution(conn: Connection) -> PlanDistribution:
    rows = {row.plan: row for row in conn.execute(PLAN_COUNTS_SQL)}
    counts: dict[str, int] = {plan: row.tenant_count for plan, row in rows.items()}
    total = sum(counts.values())
    basis = rows.get(SubscriptionPlan.Basis.value)
    canceled = basis.ever_paid if basis else 0
    return PlanDistribution(
        total_tenants=total,
        distribution=tuple(
            PlanShare(plan, counts.get(plan.value, 0), share(counts.get(plan.value, 0), total))
            for plan in SubscriptionPlan
        ),
        paid_tenants=total - counts.get(SubscriptionPlan.Basis.value, 0),
        trial_tenants=basis.active_never_paid if basis else 0,
        canceled_tenants=canceled,
        free_tenants=(basis.tenant_count - canceled) if basis else 0,
    )
