"""The demo data built in several processes (demo/parallel.py) has the rows one process makes."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from rich.progress import Progress
from sqlalchemy import Engine, create_engine

from demo import parallel, tenants
from demo import seed as demo_seed
from demo.accounts import DomainRegistry
from tests.demo.conftest import NOW
from tests.demo.test_seed import checksums, scalar


def test_every_run_of_tenants_claims_the_domains_one_process_claims() -> None:
    plans = demo_seed.tenant_plans(3000, 5, NOW)
    serial = DomainRegistry()
    expected = [tenants.make_profile(random.Random(plan.seed), plan, serial).domain for plan in plans]
    chunks = parallel.runs(plans, 3, NOW)
    got = [
        tenants.make_profile(random.Random(plan.seed), plan, domains).domain
        for chunk, domains in zip(chunks, parallel.registries(chunks), strict=True)
        for plan in chunk
    ]
    assert got == expected
    # Enough tenants that some domains were taken by a tenant of an earlier run.
    assert any(domain.split(".")[0][-1].isdigit() for domain in got[len(chunks[0]) :])


def test_runs_are_contiguous_cover_every_tenant_and_share_the_work() -> None:
    plans = demo_seed.tenant_plans(3000, 1, NOW, history_days=1095)
    chunks = parallel.runs(plans, 3, NOW)
    assert len(chunks) == 3
    assert [plan for chunk in chunks for plan in chunk] == plans
    shares = [sum(parallel.work(plan, NOW) for plan in chunk) for chunk in chunks]
    heaviest = max(parallel.work(plan, NOW) for plan in plans)
    assert max(shares) - min(shares) <= 2 * heaviest
    # The oldest tenants carry the longest histories: the first run holds fewer of them.
    assert len(chunks[0]) < len(chunks[-1])
    assert [len(chunk) for chunk in parallel.runs(plans[:2], 2, NOW)] == [1, 1]
    assert [len(chunk) for chunk in parallel.runs(plans[:2], 3, NOW)] == [1, 1]


@pytest.mark.parametrize("jobs", [2, 3])
def test_several_processes_load_the_rows_one_process_loads(engine: Engine, jobs: int) -> None:
    serial_counts = demo_seed.seed(engine, tenants=60, seed=4, now=NOW, history_days=700)
    serial = checksums(engine)
    assert serial_counts["billing_drift_checks"] > 0  # the rows whose ids an identity gives
    counts = demo_seed.seed(engine, tenants=60, seed=4, now=NOW, history_days=700, replace=True, jobs=jobs)
    assert counts == serial_counts
    assert checksums(engine) == serial
    # The tables are vacuumed: the planner knows how many tenants there are.
    assert scalar(engine, "SELECT reltuples FROM pg_class WHERE relname = 'tenants'") == 60


def test_the_cli_seeds_the_same_rows_with_one_job_and_with_two(database_url: str) -> None:
    backoffice = Path(sys.executable).parent / "backoffice"
    environment = {**os.environ, "BACKOFFICE_DEBUG": ""}
    command = [str(backoffice), "--database-url", database_url, "demo", "seed", "--tenants", "40", "--replace"]
    engine = create_engine(database_url)
    try:
        found = {}
        for jobs in ("1", "2"):
            seeded = subprocess.run(
                [*command, "--jobs", jobs], capture_output=True, text=True, env=environment, timeout=180
            )
            assert seeded.returncode == 0, seeded.stderr
            assert "Seeded 40 tenants" in seeded.stdout
            found[jobs] = checksums(engine)
        assert found["1"] == found["2"]
        refused = subprocess.run([*command, "--jobs", "0"], capture_output=True, text=True, env=environment, timeout=60)
        assert refused.returncode == 2 and "jobs must be between 1 and 256" in refused.stderr
    finally:
        engine.dispose()


def test_a_failed_process_fails_the_run_and_empties_the_tables_it_started_from(engine: Engine) -> None:
    demo_seed.seed(engine, tenants=10, seed=2, now=NOW)
    # The processes reach no database: each reports its failure to the parent.
    unreachable = create_engine(engine.url.set(database="no_such_database"))
    plans = demo_seed.tenant_plans(6, 5, NOW)
    raw = engine.raw_connection()
    try:
        with pytest.raises(RuntimeError, match="a demo data process failed"):
            parallel.load(
                unreachable,
                raw.driver_connection,
                plans,
                5,
                NOW,
                400,
                2,
                Progress(disable=True),
                dict.fromkeys(demo_seed.TABLES, 0),
                fresh=True,
            )
    finally:
        raw.close()
        unreachable.dispose()
    assert all(scalar(engine, f"SELECT count(*) FROM {table}") == 0 for table in demo_seed.TABLES)
