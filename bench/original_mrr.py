"""A faithful port of the original's daily MRR reconstruction, kept only to
measure ours against it.

The original (GetDashboardMrrTrendHandler.ComputeDailyMrr) loads every
MRR-moving billing event, groups them per subscription, sorts each group by
occurred_at, and for every day takes, per subscription, the last event before
the end of that day (LINQ LastOrDefault), summing its NewAmount.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import Connection, text


def _day_end(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC)


def daily_mrr_original(conn: Connection, period_days: int, now: datetime) -> tuple[list[Decimal], list[Decimal]]:
    rows = conn.execute(
        text("SELECT subscription_id, occurred_at, new_amount FROM billing_events WHERE amount_delta IS NOT NULL")
    ).all()
    by_subscription: dict[str, list] = defaultdict(list)
    for row in rows:
        by_subscription[row.subscription_id].append(row)
    for events in by_subscription.values():
        events.sort(key=lambda e: e.occurred_at)

    today = now.astimezone(UTC).date()
    first = today - timedelta(days=period_days - 1)
    prior_first = first - timedelta(days=period_days)

    def mrr_on(day: date) -> Decimal:
        end = _day_end(day)
        total = Decimal(0)
        for events in by_subscription.values():
            last = None
            for candidate in events:  # LastOrDefault(e => e.OccurredAt < end)
                if candidate.occurred_at < end:
                    last = candidate
            if last is not None and last.new_amount is not None:
                total += last.new_amount
        return total

    current = [mrr_on(first + timedelta(days=i)) for i in range(period_days)]
    prior = [mrr_on(prior_first + timedelta(days=i)) for i in range(period_days)]
    return current, prior
