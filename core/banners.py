"""The three data-quality banners (docs/figures.md#banners, docs/rules.md R34, R37, R56).

Each summary carries the figures its banner and `backoffice banners` show
(docs/figures.md#banners lists the JSON fields); drift and
unsynced also name a few accounts so an operator can jump straight to one.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Connection, TextClause, text

from core.account_classes import CLASS_COUNTS, tenants_sum
from core.dashboard.kpis import blended_mrr
from core.dashboard.mrr import latest_mrr

SAMPLE_SIZE = 5
# Below a cent the KPI and the trend agree (rounding of stored amounts).
CONSISTENCY_TOLERANCE = Decimal("0.01")

# A subscription with a price and not a single billing event row (any type,
# NoOp included): the MRR trend cannot see it (docs/rules.md R37). Every
# subscription with a billing event has a ledger_subscriptions row (migration
# 0005, kept by a trigger): one index entry each, not one per event.
UNSYNCED_SQL = (
    "s.current_price_amount IS NOT NULL"
    " AND NOT EXISTS (SELECT 1 FROM ledger_subscriptions AS l WHERE l.subscription_id = s.id)"
)

# Subscriptions with drift are those of the drifted classes, live or not, as
# the unsynced ones below (docs/rules.md R191): a sum of a few counters.
DRIFT_COUNT_SQL = text(f"SELECT {tenants_sum()} FROM {CLASS_COUNTS} WHERE drift")
# The order of the partial index of drifted subscriptions (0016): a walk that
# stops at the few live accounts it names.
DRIFT_SAMPLE_SQL = text(
    """
    SELECT t.id::text AS tenant_id, t.name
    FROM subscriptions AS s
    JOIN tenants AS t ON t.id = s.tenant_id AND t.deleted_at IS NULL
    WHERE s.has_drift_detected
    ORDER BY s.drift_checked_at DESC NULLS LAST, s.tenant_id
    LIMIT :limit
    """
)

# Unsynced subscriptions are those of the unsynced classes, live or not
# (docs/rules.md R191): every subscription has its tenant, and one at most.
UNSYNCED_COUNT_SQL = text(f"SELECT {tenants_sum()} FROM {CLASS_COUNTS} WHERE unsynced")
# A few live ones, in tenant order, from the partial index of live unsynced
# classes (0013) rather than a walk over every subscription.
UNSYNCED_SAMPLE_SQL = text(
    """
    SELECT t.id::text AS tenant_id, t.name
    FROM account_classes AS c
    JOIN tenants AS t ON t.id = c.tenant_id
    WHERE c.live AND c.unsynced
    ORDER BY c.tenant_id
    LIMIT :limit
    """
)


@dataclass(frozen=True)
class AccountRef:
    tenant_id: str
    name: str


@dataclass(frozen=True)
class DriftSummary:
    subscriptions_with_drift_count: int
    accounts: tuple[AccountRef, ...]  # a few of them, live tenants only


@dataclass(frozen=True)
class UnsyncedSummary:
    unsynced_subscriptions_count: int
    accounts: tuple[AccountRef, ...]


@dataclass(frozen=True)
class MrrConsistency:
    kpi_monthly_recurring_revenue: Decimal
    trend_latest_monthly_recurring_revenue: Decimal
    currency: str | None
    consistent: bool


@dataclass(frozen=True)
class Banners:
    drift: DriftSummary
    unsynced: UnsyncedSummary
    mrr_consistency: MrrConsistency


def _accounts(conn: Connection, query: TextClause) -> tuple[AccountRef, ...]:
    return tuple(AccountRef(row.tenant_id, row.name) for row in conn.execute(query, {"limit": SAMPLE_SIZE}))


def drift_summary(conn: Connection) -> DriftSummary:
    return DriftSummary(conn.execute(DRIFT_COUNT_SQL).scalar_one(), _accounts(conn, DRIFT_SAMPLE_SQL))


def unsynced_summary(conn: Connection) -> UnsyncedSummary:
    return UnsyncedSummary(conn.execute(UNSYNCED_COUNT_SQL).scalar_one(), _accounts(conn, UNSYNCED_SAMPLE_SQL))


def mrr_consistency(conn: Connection, currency: str | None) -> MrrConsistency:
    """The KPI's forward MRR against the trend's latest figure (docs/rules.md R34):
    within a cent the trend takes the KPI's value, so equal means consistent."""
    kpi = blended_mrr(conn)
    trend = latest_mrr(conn)
    if abs(kpi - trend) < CONSISTENCY_TOLERANCE:
        trend = kpi
    return MrrConsistency(kpi, trend, currency, consistent=kpi == trend)


def banners(conn: Connection, currency: str | None) -> Banners:
    """All three summaries. Nothing here depends on the clock."""
    return Banners(drift_summary(conn), unsynced_summary(conn), mrr_consistency(conn, currency))
