"""`backoffice demo seed`: deterministic, realistic demo data, loaded by COPY.

The same seed and the same `now` give the same rows: one `random.Random(seed)`
draws which tenants play special parts and one seed per tenant, and each
tenant's rows come from generators derived from its seed, so chunking and
loading order change nothing.

Two phases, each streamed in chunks of tenants: accounts and billing (tenants,
subscriptions, Stripe events, the billing events the replayer makes of them,
drift checks), then people (users, sessions, logins). Everything loads in one
transaction, so a failed run leaves the database as it was.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime

import psycopg
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from sqlalchemy import Engine, text

from core.clock import utcnow
from core.errors import OperatorError
from demo import people, tenants
from demo.accounts import DomainRegistry, TenantProfile
from demo.bulk import Batch, CopyWriter
from demo.stripe_objects import demo_catalog
from demo.tenants import ACKNOWLEDGED_KINDS, DRIFT_KINDS, HISTORY_DAYS, Role, TenantPlan

# Tenants per COPY batch: people make many more rows per tenant than billing does.
ACCOUNTS_CHUNK = 1000
PEOPLE_CHUNK = 2000
# Derived streams: a tenant's people from its seed, account-level events from the run's seed.
PEOPLE_SALT = 0x5EED_0F_9E0_91E
ACCOUNT_EVENTS_SALT = 0xACC_0E7E
# Drift and unsynced tenants need a paid past (tenants.SPECIAL_MIN_AGE) within the window.
MIN_HISTORY_DAYS = 90

TABLES = (
    "tenants",
    "users",
    "subscriptions",
    "stripe_events",
    "billing_events",
    "billing_drift_checks",
    "sessions",
    "email_logins",
    "external_logins",
)
ACCOUNT_TABLES = {
    "tenants": tenants.TENANT_COLUMNS,
    "subscriptions": tenants.SUBSCRIPTION_COLUMNS,
    "stripe_events": tenants.STRIPE_EVENT_COLUMNS,
    "billing_events": tenants.BILLING_EVENT_COLUMNS,
    "billing_drift_checks": tenants.DRIFT_CHECK_COLUMNS,
}
ACCOUNTS_TASK = "Accounts and billing"
PEOPLE_TASK = "Users, sessions and logins"
PEOPLE_TABLES = {
    "users": people.USER_COLUMNS,
    "sessions": people.SESSION_COLUMNS,
    "email_logins": people.EMAIL_LOGIN_COLUMNS,
    "external_logins": people.EXTERNAL_LOGIN_COLUMNS,
}


def database_is_empty(engine: Engine) -> bool:
    with engine.connect() as conn:
        return conn.execute(text("SELECT NOT EXISTS (SELECT 1 FROM tenants)")).scalar_one()


def today(now: datetime | None = None) -> datetime:
    """Midnight UTC of today: the default `now`, so a seed repeats within a day."""
    return (now or utcnow()).replace(hour=0, minute=0, second=0, microsecond=0)


def seed(
    engine: Engine,
    *,
    tenants: int,
    seed: int,
    progress: bool = False,
    now: datetime | None = None,
    replace: bool = False,
    history_days: int = HISTORY_DAYS,
    on_loaded: Callable[[psycopg.Connection, dict[str, int]], None] | None = None,
    jobs: int = 1,
) -> dict[str, int]:
    """Generate and load the demo data; the row count of each table.
    Tenants sign up over the last `history_days`, so the oldest carry that
    much billing history. Refuses a database that has tenants unless
    `replace` is set. `on_loaded(connection, counts)` runs in the load's
    transaction before it commits (the audit trail's row). `jobs` above 1
    generates and loads in that many processes (demo/parallel.py), with
    the same rows; they commit batch by batch, so only a run that started
    from empty tables leaves them as it found them when it fails."""
    if tenants < 1:
        raise OperatorError("--tenants must be at least 1")
    if history_days < MIN_HISTORY_DAYS:
        raise OperatorError(f"--history-days must be at least {MIN_HISTORY_DAYS}")
    now = now or today()
    plans = tenant_plans(tenants, seed, now, history_days)
    counts = dict.fromkeys(TABLES, 0)
    raw = engine.raw_connection()
    connection = raw.driver_connection
    try:
        existing = connection.execute("SELECT count(*) FROM tenants").fetchone()[0]
        if existing and not replace:
            raise OperatorError(
                f"the database already has {existing:,} tenants; use --replace to delete them and seed again"
            )
        # Emptied in this transaction (nothing else to keep), the tables take COPY FREEZE.
        fresh = replace or not any(
            connection.execute(f"SELECT EXISTS (SELECT 1 FROM {table})").fetchone()[0] for table in TABLES
        )
        if fresh:
            connection.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")
        with _progress(progress) as bars, _quiet_pipeline():
            if min(jobs, tenants) > 1:
                from demo import parallel

                parallel.load(
                    engine, connection, plans, seed, now, history_days, min(jobs, tenants), bars, counts, fresh=fresh
                )
            else:
                prepare_session(connection)
                writer = CopyWriter(connection, freeze=fresh)
                try:
                    accounts = bars.add_task(ACCOUNTS_TASK, total=len(plans))
                    profiles = _accounts_phase(
                        writer, plans, seed, now, history_days, lambda n: bars.advance(accounts, n), counts
                    )
                    people_task = bars.add_task(PEOPLE_TASK, total=len(profiles))
                    _people_phase(writer, profiles, now, lambda n: bars.advance(people_task, n), counts)
                finally:
                    writer.close()
            if on_loaded is not None:
                on_loaded(connection, counts)
            connection.commit()
            _vacuum(connection, bars)
    except BaseException:
        connection.rollback()
        raise
    finally:
        connection.autocommit = False
        raw.close()
    return counts


def prepare_session(connection: psycopg.Connection) -> None:
    """The loading transaction's settings."""
    connection.execute("SET LOCAL synchronous_commit = off")
    # Trigram (GIN) indexes collect new entries and merge them once, in VACUUM below.
    connection.execute("SET LOCAL gin_pending_list_limit = '1GB'")


def _vacuum(connection: psycopg.Connection, bars: Progress) -> None:
    """Statistics for the planner, the visibility map for index-only scans,
    and the trigram indexes' pending entries merged."""
    task = bars.add_task("Vacuuming and analyzing", total=len(TABLES))
    connection.autocommit = True
    for table in TABLES:
        connection.execute(f"VACUUM (ANALYZE) {table}")
        bars.advance(task)


def tenant_plans(count: int, seed: int, now: datetime, history_days: int = HISTORY_DAYS) -> list[TenantPlan]:
    """When each tenant signs up (oldest first, so tenant ids grow with the
    index as in production), which tenants play special parts, and each
    tenant's own seed."""
    master = random.Random(seed)
    created = sorted(tenants.signup_instant(master, now, history_days) for _ in range(count))
    drift_count = min(count, max(2, round(count * 0.005)))
    unsynced_count = min(count - drift_count, max(2, round(count * 0.003)))
    acknowledged_count = min(count - drift_count - unsynced_count, round(count * 0.002))
    old_enough = [index for index, at in enumerate(created) if now - at >= tenants.SPECIAL_MIN_AGE]
    candidates = (
        old_enough if len(old_enough) >= drift_count + unsynced_count + acknowledged_count else list(range(count))
    )
    special = master.sample(candidates, drift_count + unsynced_count + acknowledged_count)
    drift = sorted(special[:drift_count])
    unsynced = set(special[drift_count : drift_count + unsynced_count])
    acknowledged = sorted(special[drift_count + unsynced_count :])
    kinds = {index: DRIFT_KINDS[number % len(DRIFT_KINDS)] for number, index in enumerate(drift)}
    kinds |= {index: ACKNOWLEDGED_KINDS[number % len(ACKNOWLEDGED_KINDS)] for number, index in enumerate(acknowledged)}
    plans = []
    for index in range(count):
        if index in unsynced:
            role = Role.unsynced
        elif index in kinds:
            role = Role.drift if index in drift else Role.acknowledged_drift
        else:
            role = Role.regular
        plans.append(TenantPlan(index, master.getrandbits(64), created[index], role, kinds.get(index)))
    return plans


def _accounts_phase(
    writer: CopyWriter,
    plans: list[TenantPlan],
    seed: int,
    now: datetime,
    history_days: int,
    advance: Callable[[int], None],
    counts: dict[str, int],
    domains: DomainRegistry | None = None,
    *,
    run_events: bool = True,
    drift_checks: list[str] | None = None,
) -> list[TenantProfile]:
    """Generate and load the tenants of `plans` (a contiguous run of them,
    `domains` as the tenants before it left the registry). `run_events`: also
    the run's account-level events. `drift_checks`: collect the drift-check
    lines there instead of loading them (their ids come from an identity,
    so a parallel build loads them once, in order)."""
    catalog = demo_catalog()
    domains = domains or DomainRegistry()
    profiles: list[TenantProfile] = []
    for start in range(0, len(plans), ACCOUNTS_CHUNK):
        batch = Batch(ACCOUNT_TABLES)
        if start == 0 and run_events:
            run_account_events(batch, seed, now, history_days)
        chunk = plans[start : start + ACCOUNTS_CHUNK]
        for plan in chunk:
            profiles.append(tenants.generate(random.Random(plan.seed), plan, now, catalog, domains, batch))
        if drift_checks is not None:
            drift_checks.extend(batch.lines["billing_drift_checks"])
            batch.lines["billing_drift_checks"] = []
        load(writer, batch, counts)
        advance(len(chunk))
    return profiles


def run_account_events(batch: Batch, seed: int, now: datetime, history_days: int) -> None:
    """Stripe events of the account itself (payouts), drawn from the run's seed."""
    tenants.ignored_events(random.Random(seed ^ ACCOUNT_EVENTS_SALT), now, batch, history_days)


def _people_phase(
    writer: CopyWriter,
    profiles: list[TenantProfile],
    now: datetime,
    advance: Callable[[int], None],
    counts: dict[str, int],
) -> None:
    for start in range(0, len(profiles), PEOPLE_CHUNK):
        batch = Batch(PEOPLE_TABLES)
        chunk = profiles[start : start + PEOPLE_CHUNK]
        for profile in chunk:
            people.generate(random.Random(profile.seed ^ PEOPLE_SALT), profile, now, batch)
        load(writer, batch, counts)
        advance(len(chunk))


def load(writer: CopyWriter, batch: Batch, counts: dict[str, int]) -> None:
    batch.sort_by_primary_key()
    for table, count in batch.counts().items():
        counts[table] += count
    writer.put(batch)


@contextmanager
def _quiet_pipeline() -> Iterator[None]:
    """The pipeline warns per odd invoice (the drift tenants have them on purpose)."""
    pipeline = logging.getLogger("stripe_sync")
    level = pipeline.level
    pipeline.setLevel(logging.ERROR)
    try:
        yield
    finally:
        pipeline.setLevel(level)


@contextmanager
def _progress(visible: bool) -> Iterator[Progress]:
    bars = Progress(
        TextColumn("{task.description:<28}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        disable=not visible,
    )
    with bars:
        yield bars
