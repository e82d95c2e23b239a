"""A database seeded once per module, for tests that only read it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import psycopg
import pytest
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url

from demo import seed as demo_seed

NOW = datetime(2026, 5, 8, tzinfo=UTC)
TENANTS = 30


@pytest.fixture(scope="module")
def seeded(pg_server_url: str, template_url: str) -> Iterator[tuple[Engine, dict[str, int]]]:
    name = f"demo_{uuid.uuid4().hex[:10]}"
    admin_url = pg_server_url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{make_url(template_url).database}"')
    engine = create_engine(make_url(pg_server_url).set(database=name))
    counts = demo_seed.seed(engine, tenants=TENANTS, seed=1, now=NOW)
    yield engine, counts
    engine.dispose()
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
