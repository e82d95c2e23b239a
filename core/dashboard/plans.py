"""Accounts per plan, and paid / trial / canceled / free (decisions.md: both).

Live tenants only. paid + canceled + free = total; trial is the part of free
whose tenant is Active (contract.md 8: trial = Active on Basis, never paid;
free = on Basis, never paid; canceled = on Basis, ever paid).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from sqlalchemy import Connection, text

from core.money import has_ever_subscribed_sql
from db.enums import SubscriptionPlan

PLAN_COUNTS_SQL = text("SELECT plan, count(*) AS count FROM tenants WHERE deleted_at IS NULL GROUP BY plan")

BASIS_SPLIT_SQL = text(
    f"""
    SELECT count(*) FILTER (WHERE ever_paid) AS canceled,
           count(*) FILTER (WHERE NOT ever_paid) AS free,
           count(*) FILTER (WHERE NOT ever_paid AND state = 'Active') AS trial
    FROM (
        SELECT t.state, COALESCE({has_ever_subscribed_sql('s')}, false) AS ever_paid
        FROM tenants AS t
        LEFT JOIN subscriptions AS s ON s.tenant_id = t.id
        WHERE t.deleted_at IS NULL AND t.plan = 'Basis'
    ) AS basis
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
    counts = {row.plan: row.count for row in conn.execute(PLAN_COUNTS_SQL)}
    total = sum(counts.values())
    basis = conn.execute(BASIS_SPLIT_SQL).one()
    return PlanDistribution(
        total_tenants=total,
        distribution=tuple(
            PlanShare(plan, counts.get(plan.value, 0), share(counts.get(plan.value, 0), total))
            for plan in SubscriptionPlan
        ),
        paid_tenants=total - counts.get(SubscriptionPlan.Basis.value, 0),
        trial_tenants=basis.trial,
        canceled_tenants=basis.canceled,
        free_tenants=basis.free,
    )
