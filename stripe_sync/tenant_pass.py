"""One Stripe action over many tenants (`sync --all`, the drift worker).

Several tenants run at once, each in short transactions of its own (nothing
is held while Stripe answers, so the pool is not the limit). A run of
consecutive "Stripe unavailable" answers stops the pass: when Stripe is down,
trying the remaining tenants one timeout at a time only delays the news.
Outcomes come back by tenant id, whatever order the workers finished in.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from core.errors import OperatorError
from stripe_sync.errors import StripeUnavailable

WORKERS = 8
STOP_AFTER = 10  # consecutive StripeUnavailable outcomes

R = TypeVar("R")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TenantOutcome(Generic[R]):
    tenant_id: int
    value: R | None = None
    error: Exception | None = None

    @property
    def unavailable(self) -> bool:
        return isinstance(self.error, StripeUnavailable)

    @property
    def error_line(self) -> str:
        """The error as one line (a bug's type is named: it has no operator text)."""
        error = self.error
        if error is None:
            return ""
        text = str(error).strip().splitlines()[0] if str(error).strip() else ""
        if isinstance(error, OperatorError) and text:
            return text
        return f"{type(error).__name__}: {text}" if text else type(error).__name__


@dataclass
class PassOutcome(Generic[R]):
    outcomes: list[TenantOutcome[R]] = field(default_factory=list)  # by tenant id
    not_tried: list[int] = field(default_factory=list)
    stopped_after: int = 0  # the consecutive failures that stopped the pass; 0 when it ran to the end

    def stop_line(self, done_word: str) -> str | None:
        """ "Stripe unreachable: ..." when the pass stopped early, else None."""
        if not self.stopped_after:
            return None
        done = sum(1 for outcome in self.outcomes if outcome.error is None)
        return (
            f"Stripe unreachable: stopped after {self.stopped_after} consecutive connection failures;"
            f" {done} {done_word}, {len(self.not_tried)} not tried"
        )


Progress = Callable[[TenantOutcome[R], int, int], None]  # (outcome, done, total)


def run_pass(
    tenant_ids: Sequence[int],
    work: Callable[[int], R],
    *,
    workers: int = WORKERS,
    stop_after: int = STOP_AFTER,
    progress: Progress[R] | None = None,
) -> PassOutcome[R]:
    """`work(tenant_id)` for each tenant, `workers` at a time; `progress` is
    called in the caller's thread as each one finishes."""
    result: PassOutcome[R] = PassOutcome()
    queue = iter(tenant_ids)
    consecutive = 0
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tenant-pass") as pool:
        running: dict[Future[TenantOutcome[R]], int] = {}
        _fill(pool, running, queue, work, workers)
        while running:
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in sorted(finished, key=running.__getitem__):
                del running[future]
                outcome = future.result()
                result.outcomes.append(outcome)
                consecutive = consecutive + 1 if outcome.unavailable else 0
                if consecutive >= stop_after and not result.stopped_after:
                    result.stopped_after = consecutive
                if progress is not None:
                    progress(outcome, len(result.outcomes), len(tenant_ids))
            if not result.stopped_after:  # once stopped, only the tenants already started finish
                _fill(pool, running, queue, work, workers)
    result.not_tried = list(queue)
    result.outcomes.sort(key=lambda outcome: outcome.tenant_id)
    return result


def _fill(
    pool: ThreadPoolExecutor,
    running: dict[Future[TenantOutcome[R]], int],
    queue: Iterator[int],
    work: Callable[[int], R],
    workers: int,
) -> None:
    while len(running) < workers:
        tenant_id = next(queue, None)
        if tenant_id is None:
            return
        running[pool.submit(_attempt, work, tenant_id)] = tenant_id


def _attempt(work: Callable[[int], R], tenant_id: int) -> TenantOutcome[R]:
    try:
        return TenantOutcome(tenant_id, value=work(tenant_id))
    except Exception as error:  # one tenant's failure, even a bug, never stops the others
        # The caller reports it in one line; a bug's traceback goes to the log only.
        log.info("tenant %s failed: %s", tenant_id, error, exc_info=not isinstance(error, OperatorError))
        return TenantOutcome(tenant_id, error=error)
