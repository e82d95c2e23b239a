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

holds to the cent. The steps are classified in PostgreSQL with window
functions over each subscription's history, by the trigger that keeps
`mrr_movement_days` (migration 0014, docs/rules.md R210); the card sums the
period's days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import Connection, text

from core.dashboard.mrr import daily_mrr
from core.dashboard.periods import DayWindows

# The movements of whole UTC days from mrr_movement_days (migration 0014,
# kept by a trigger that reclassifies the steps of every subscription a write
# touches; docs/rules.md R210): a period is a sum over its days, whatever the
# size of the log.
MRR_MOVEMENTS_SQL = text(
    """
    SELECT COALESCE(SUM(new_mrr), 0) AS new,
           COALESCE(SUM(expansion_mrr), 0) AS expansion,
           COALESCE(SUM(reactivation_mrr), 0) AS reactivation,
           COALESCE(SUM(contraction_mrr), 0) AS contraction,
           COALESCE(SUM(churned_mrr), 0) AS churn
    FROM mrr_movement_days
    WHERE day >= :first_day AND day <= :last_day
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


def mrr_movements_between(conn: Connection, first_day: date, last_day: date) -> tuple[Decimal, ...]:
    """(new, expansion, reactivation, contraction, churn) of the MRR-moving rows
    that occurred on the UTC days first_day to last_day (both included)."""
    row = conn.execute(MRR_MOVEMENTS_SQL, {"first_day": first_day, "last_day": last_day}).one()
    return tuple(Decimal(value) for value in (row.new, row.expansion, row.reactivation, row.contraction, row.churn))


def mrr_movements(conn: Connection, period_days: int, now: datetime, currency: str | None) -> MrrMovements:
    """The MRR movements of the N UTC days ending today (docs/rules.md R150)."""
    windows = DayWindows.ending(now, period_days)
    day_before = windows.start - timedelta(days=1)
    points = daily_mrr(conn, day_before, windows.today)
    # The period is whole UTC days: 00:00 of its first day to 00:00 after today.
    new, expansion, reactivation, contraction, churn = mrr_movements_between(conn, windows.start, windows.today)
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
