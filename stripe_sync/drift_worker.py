"""The drift worker (domain.md 6.5, 4.3 Detect mode): check every subscription
whose last drift check is stale against Stripe, writing nothing but the drift
status.

Each subscription is checked in a transaction of its own. When Stripe cannot
be read the check is skipped and its drift_checked_at stays, so the next pass
retries it; any other failure is reported and the pass goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, Row, or_, select

from core.errors import OperatorError
from core.settings import Settings
from db.models import Subscription
from stripe_sync.errors import StripeUnavailable
from stripe_sync.processing import process_customer
from stripe_sync.state_sync import StripeGateway
from stripe_sync.sync import SyncFailure, require_admin, require_stripe, stripe_client_for

DEFAULT_STALENESS = timedelta(hours=23)

log = logging.getLogger(__name__)


@dataclass
class DriftCheckResult:
    checked_at: datetime
    checked: int = 0  # drift status written
    drift_detected: int = 0  # of those checked
    skipped_stripe_unavailable: int = 0
    failures: list[SyncFailure] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "checked": self.checked,
            "drift_detected": self.drift_detected,
            "skipped_stripe_unavailable": self.skipped_stripe_unavailable,
            "failures": [{"tenant_id": str(f.tenant_id), "error": f.error} for f in self.failures],
            "checked_at": self.checked_at,
        }


def due_for_check(conn: Connection, cutoff: datetime) -> list[Row[Any]]:
    """Subscriptions with a Stripe customer never checked or last checked
    before `cutoff`, by tenant id: (tenant_id, stripe_customer_id)."""
    return list(
        conn.execute(
            select(Subscription.tenant_id, Subscription.stripe_customer_id)
            .where(
                Subscription.stripe_customer_id.is_not(None),
                or_(Subscription.drift_checked_at.is_(None), Subscription.drift_checked_at < cutoff),
            )
            .order_by(Subscription.tenant_id)
        )
    )


def check_stale(
    engine: Engine,
    settings: Settings,
    *,
    now: datetime,
    staleness: timedelta = DEFAULT_STALENESS,
    client: StripeGateway | None = None,
    progress: Callable[[int, int, int], None] | None = None,
) -> DriftCheckResult:
    """Admin: one pass of the drift worker. `progress(done, total, tenant_id)`
    is called before each subscription."""
    with engine.connect() as conn:
        require_admin(conn, "checking drift")
        require_stripe(settings)
        due = due_for_check(conn, now - staleness)
    gateway = client or stripe_client_for(settings)
    result = DriftCheckResult(checked_at=now)
    for done, row in enumerate(due):
        if progress is not None:
            progress(done, len(due), row.tenant_id)
        try:
            with engine.begin() as conn:
                processed = process_customer(conn, gateway, row.stripe_customer_id, now=now, force=True, apply=False)
        except StripeUnavailable as error:
            log.info("drift check of tenant %s skipped, Stripe unavailable: %s", row.tenant_id, error)
            result.skipped_stripe_unavailable += 1
            continue
        except Exception as error:  # one tenant's failure, even a bug, never stops the pass
            log.warning("drift check of tenant %s failed", row.tenant_id, exc_info=not isinstance(error, OperatorError))
            result.failures.append(SyncFailure(row.tenant_id, _describe(error)))
            continue
        if processed is None:  # the customer moved to another subscription since the query
            continue
        result.checked += 1
        result.drift_detected += bool(processed.discrepancies)
    return result


def _describe(error: Exception) -> str:
    return str(error) if isinstance(error, OperatorError) else f"{type(error).__name__}: {error}"
