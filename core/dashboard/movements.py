"""MRR movements: the period's MRR change split into new, expansion,
reactivation, contraction and churn (docs/rules.md R150, docs/figures.md#mrr-movements).

The period is the dashboard's: the N UTC days ending today (docs/rules.md R80).
MRR at its start is MRR at the end of the day before its first day, MRR at its
end MRR at the end of today, both read as the MRR trend reads them (docs/rules.md
R33, `daily_mrr`). Between the two, every MRR-moving row of the billing event
log that occurred in the period is one step of its subscription (an account has
one subscription) from the amount before it to its own `new_amount` (null
counts 0), in replay order (occurred_at, then Stripe event id ordinally):

- from 0 to above 0: **new** when no earlier row of the subscription had an
  amount above 0, else **reactivation**;
- from above 0 to a higher amount: **expansion**;
- from above 0 to a lower amount above 0: **contraction**;
- from above 0 to 0: **churn**.

Each step's change lands in exactly one movement (or none when it moves
nothing), so the movements telescope per subscription to its closing amount
less its opening amount, and

    start + new + expansion + reactivation − contraction − churn = end

holds to the cent. The steps are computed in PostgreSQL with window functions
over the rows of the subscriptions that moved in the period (index
`ix_billing_events_mrr_moves_by_time` to find them,
`ix_billing_events_mrr_moves_by_subscription` for their histories, 0004).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import Connection, text

from core.dashboard.mrr import daily_mrr
from core.dashboard.periods import DayWindows, start_of_day

# One row per MRR-moving row of the subscriptions that moved in the period:
# the amount before it (its predecessor's, 0 for a subscription's first row)
# and whether any earlier row had an amount above 0; summed per movement over
# the rows inside the period.
MRR_MOVEMENTS_SQL = text(
    """
    WITH moved AS (
        SELECT DISTINCT b.subscription_id
        FROM billing_events AS b
        WHERE b.amount_delta IS NOT NULL
          AND b.occurred_at >= :period_start AND b.occurred_at < :period_end
    ),
    steps AS (
        SELECT b.occurred_at,
               COALESCE(b.new_amount, 0) AS after,
               COALESCE(LAG(COALESCE(b.new_amount, 0)) OVER replay, 0) AS before,
               COALESCE(MAX(COALESCE(b.new_amount, 0)) OVER replay, 0) > 0 AS paid_before
        FROM moved
        JOIN billing_events AS b ON b.subscription_id = moved.subscription_id
        WHERE b.amount_delta IS NOT NULL AND b.occurred_at < :period_end
        -- One window for both: LAG ignores the frame, MAX sees the rows before.
        WINDOW replay AS (
            PARTITION BY b.subscription_id ORDER BY b.occurred_at, b.stripe_event_id COLLATE "C"
            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
        )
    )
    SELECT
        COALESCE(SUM(after) FILTER (WHERE before = 0 AND after > 0 AND NOT paid_before), 0) AS new,
        COALESCE(SUM(after - before) FILTER (WHERE before > 0 AND after > before), 0) AS expansion,
        COALESCE(SUM(after) FILTER (WHERE before = 0 AND after > 0 AND paid_before), 0) AS reactivation,
        COALESCE(SUM(before - after) FILTER (WHERE after > 0 AND after < before), 0) AS contraction,
        COALESCE(SUM(before) FILTER (WHERE before > 0 AND after = 0), 0) AS churn
    FROM steps
    WHERE occurred_at >= :period_start
    """
)


@dataclass(frozen=True)
class MrrMovements:
    """The period's MRR change, split (docs/rules.md R150). Every movement is
    0 or more; contraction and churn are what left."""

    period: int
    currency: str | None
    first_day: date
    last_day: date
    start_monthly_recurring_revenue: Decimal  # at the start of first_day
    new_mrr: Decimal
    expansion_mrr: Decimal
    reactivation_mrr: Decimal
    contraction_mrr: Decimal
    churned_mrr: Decimal
    end_monthly_recurring_revenue: Decimal  # at the end of last_day

    @property
    def net_change(self) -> Decimal:
        """What the movements add up to: gains less losses."""
        return self.new_mrr + self.expansion_mrr + self.reactivation_mrr - self.contraction_mrr - self.churned_mrr

    @property
    def reconciles(self) -> bool:
        """start + net change = end, to the cent."""
        return self.start_monthly_recurring_revenue + self.net_change == self.end_monthly_recurring_revenue

    @property
    def is_empty(self) -> bool:
        """No MRR at either end and nothing moved."""
        return not (
            self.start_monthly_recurring_revenue
            or self.end_monthly_recurring_revenue
            or self.new_mrr
            or self.expansion_mrr
            or self.reactivation_mrr
            or self.contraction_mrr
            or self.churned_mrr
        )


def mrr_movements_between(conn: Connection, period_start: datetime, period_end: datetime) -> tuple[Decimal, ...]:
    """(new, expansion, reactivation, contraction, churn) of the MRR-moving rows
    that occurred in [period_start, period_end)."""
    row = conn.execute(MRR_MOVEMENTS_SQL, {"period_start": period_start, "period_end": period_end}).one()
    return tuple(Decimal(value) for value in (row.new, row.expansion, row.reactivation, row.contraction, row.churn))


def mrr_movements(conn: Connection, period_days: int, now: datetime, currency: str | None) -> MrrMovements:
    """The MRR movements of the N UTC days ending today (docs/rules.md R150)."""
    windows = DayWindows.ending(now, period_days)
    day_before = windows.start - timedelta(days=1)
    points = daily_mrr(conn, day_before, windows.today)
    new, expansion, reactivation, contraction, churn = mrr_movements_between(
        conn, start_of_day(windows.start), windows.loaded_until
    )
    return MrrMovements(
        period=windows.days,
        currency=currency,
        first_day=windows.start,
        last_day=windows.today,
        start_monthly_recurring_revenue=points[0].monthly_recurring_revenue,
        new_mrr=new,
        expansion_mrr=expansion,
        reactivation_mrr=reactivation,
        contraction_mrr=contraction,
        churned_mrr=churn,
        end_monthly_recurring_revenue=points[-1].monthly_recurring_revenue,
    )
