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
from tests.databases import cloned_database

NOW = datetime(2026, 5, 8, tzinfo=UTC)
TENANTS = 30


@pytest.fixture(scope="module")
def seeded(pg_server_url: str, template_url: str) -> Iterator[tuple[Engine, dict[str, int]]]:
    with cloned_database(pg_server_url, template_url) as url:
        engine = create_engine(url)
        counts = demo_seed.seed(engine, tenants=TENANTS, seed=1, now=NOW)
        yield engine, counts
        engine.dispose()
