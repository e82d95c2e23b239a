"""One Stripe action over many tenants (`sync --all`, the drift worker).

Several tenants run at once, each in short transactions of its own (nothing
is held while Stripe answers, so the pool is not the limit). A run of
consecutive "Stripe unavailable" answers stops the pass: when Stripe is down,
trying the remaining tenants one timeout at a time only delays the news.
Ctrl-C stops it too: no tenant is started after it, the ones in progress
finish (each commits or rolls back whole) and the pass reports what it did;
a second Ctrl-C leaves them at once (PassAbandoned).
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
SIGNAL_POLL_SECONDS = 0.2

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


class PassAbandoned(KeyboardInterrupt):
    """A second Ctrl-C: the tenants in progress were left running. Their
    transactions roll back when the process ends."""

    def __init__(self, in_progress: int) -> None:
        super().__init__(f"stopped at once: {in_progress} tenant(s) in progress left unfinished (rolled back)")
        self.in_progress = in_progress


@dataclass
class PassOutcome(Generic[R]):
    outcomes: list[TenantOutcome[R]] = field(default_factory=list)  # by tenant id
    not_tried: list[int] = field(default_factory=list)
    stopped_after: int = 0  # the consecutive failures that stopped the pass; 0 when it ran to the end
    interrupted: bool = False  # Ctrl-C stopped the pass

    def stop_line(self, done_word: str) -> str | None:
        """Why the pass stopped early ("Stripe unreachable: ...", "Interrupted: ..."), else None."""
        done = sum(1 for outcome in self.outcomes if outcome.error is None)
        if self.interrupted:
            return f"Interrupted: {done} {done_word}, {len(self.not_tried)} not tried"
        if not self.stopped_after:
            return None
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
    called in the caller's thread as each one finishes. Ctrl-C ends the pass
    once the tenants in progress have finished; a second one raises
    PassAbandoned without waiting for them."""
    result: PassOutcome[R] = PassOutcome()
    queue = iter(tenant_ids)
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tenant-pass")
    running: dict[Future[TenantOutcome[R]], int] = {}
    try:
        _fill(pool, running, queue, work, workers)
        _follow(
            result,
            running,
            len(tenant_ids),
            stop_after,
            progress,
            refill=lambda: _fill(pool, running, queue, work, workers),
        )
    except KeyboardInterrupt:
        try:  # from its first line: a second Ctrl-C may come while the first is being reported
            result.interrupted = True
            log.warning(
                "interrupted: finishing the %d tenant(s) in progress; Ctrl-C again to stop at once", len(running)
            )
            _follow(result, running, len(tenant_ids), stop_after, progress, refill=None)
        except KeyboardInterrupt:
            pool.shutdown(wait=False, cancel_futures=True)
            raise PassAbandoned(len(running)) from None
    pool.shutdown(wait=True)
    result.not_tried = list(queue)
    result.outcomes.sort(key=lambda outcome: outcome.tenant_id)
    return result


def _follow(
    result: PassOutcome[R],
    running: dict[Future[TenantOutcome[R]], int],
    total: int,
    stop_after: int,
    progress: Progress[R] | None,
    refill: Callable[[], None] | None,
) -> None:
    """Collect the outcomes as the tenants finish; `refill` starts the next
    ones while the pass goes on (None: only the running ones finish)."""
    consecutive = 0
    while running:
        # A short wait, again and again: a Ctrl-C that lands on a worker thread is
        # only seen when this thread runs Python again.
        finished, _ = wait(running, timeout=SIGNAL_POLL_SECONDS, return_when=FIRST_COMPLETED)
        for future in sorted(finished, key=running.__getitem__):
            del running[future]
            outcome = future.result()
            result.outcomes.append(outcome)
            consecutive = consecutive + 1 if outcome.unavailable else 0
            if consecutive >= stop_after and not result.stopped_after:
                result.stopped_after = consecutive
            if progress is not None:
                progress(outcome, len(result.outcomes), total)
        if refill is not None and not result.stopped_after:  # once stopped, only the tenants started finish
            refill()


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
