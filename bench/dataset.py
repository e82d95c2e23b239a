"""The benchmark dataset: demo data at N tenants in a cached database.

The database lives on an embedded PostgreSQL in the user cache directory (for
root /var/cache/backoffice, see db/embedded.py) and is
named after the tenant count, the seed and a hash of the generator's sources,
so it is built once and reused until the generator changes; a reused database
is migrated to the latest schema (new indexes are built on the data it has).
A database is marked complete only after seeding finished; an interrupted one
is rebuilt.
"""

from __future__ import annotations

import ast
import hashlib
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url

from db import embedded, migrate

ROOT = Path(__file__).resolve().parent.parent
COMPLETE = "backoffice bench dataset: complete"
# Fixed so cached datasets stay comparable from day to day.
DATASET_NOW = datetime(2026, 11, 1, tzinfo=UTC)

# Server settings for a machine that hosts a large platform (the defaults of a
# fresh cluster are sized for a laptop).
SERVER_SETTINGS = {
    "shared_buffers": "2GB",
    "work_mem": "64MB",
    "maintenance_work_mem": "512MB",
    "effective_cache_size": "12GB",
    "random_page_cost": "1.1",
    "max_wal_size": "4GB",
    "checkpoint_timeout": "15min",
}


def data_dir() -> Path:
    configured = os.environ.get("BENCH_PGDATA")
    return Path(configured) if configured else embedded.cache_home() / "bench-postgres"


def sources_fingerprint() -> str:
    """A digest of the generator's sources: demo/ and the stripe_sync
    modules it runs (other stripe_sync modules cannot change the data).
    It digests their syntax trees without docstrings, so reformatting, a
    comment or a docstring does not force a rebuild of a dataset that takes
    minutes. BENCH_FINGERPRINT pins it: the datasets an earlier generator
    built, when a change to the sources is known to leave the rows as they
    were (a rebuild of four sizes takes most of an hour)."""
    pinned = os.environ.get("BENCH_FINGERPRINT", "").strip()
    if pinned:
        return pinned
    import demo.parallel  # noqa: F401  (loads every module the generator runs)

    folders = {ROOT / "demo", ROOT / "stripe_sync"}
    sources = sorted(
        {
            path
            for module in list(sys.modules.values())
            if (path := _source_of(module)) is not None and path.parent in folders
        }
    )
    digest = hashlib.sha1()
    for path in sources:
        digest.update(ast.dump(_without_docstrings(ast.parse(path.read_bytes()))).encode())
    return digest.hexdigest()[:8]


def _without_docstrings(tree: ast.Module) -> ast.Module:
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                node.body = node.body[1:] or [ast.Pass()]
    return tree


def _source_of(module: object) -> Path | None:
    file = getattr(module, "__file__", None)
    return Path(file).resolve() if file else None


def database_name(tenants: int, seed: int) -> str:
    return f"bench_t{tenants}_s{seed}_{sources_fingerprint()}"


def _server_url() -> str:
    pgdata = data_dir()
    url = embedded.start(pgdata)
    _tune(pgdata, url)
    return url


def _tune(pgdata: Path, url: str) -> None:
    """Apply SERVER_SETTINGS once; a restart makes shared_buffers take effect."""
    marker = pgdata.parent / ".bench-tuned"
    if marker.exists():
        return
    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
        for name, value in SERVER_SETTINGS.items():
            conn.execute(f"ALTER SYSTEM SET {name} = '{value}'")
    embedded.restart(pgdata)
    marker.write_text("tuned\n")


def _is_complete(admin: psycopg.Connection, name: str) -> bool:
    row = admin.execute(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", (name,)
    ).fetchone()
    return bool(row and row[0] == COMPLETE)


def ensure(tenants: int, seed: int = 1, *, log=print, jobs: int | None = None) -> Engine:
    """The engine of a complete dataset, building it when missing, in `jobs`
    processes (default: one per CPU; the rows are the same, demo/parallel.py)."""
    server = _server_url()
    name = database_name(tenants, seed)
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(server.replace("+psycopg", ""), autocommit=True) as admin:
        if _is_complete(admin, name):
            log(f"Reusing dataset {name}.")
            engine = create_engine(url)
            migrate.upgrade(engine)
            return engine
        log(f"Building dataset {name} ({tenants:,} tenants)...")
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    engine = create_engine(url)
    migrate.upgrade(engine)
    from demo import seed as demo_seed

    jobs = jobs or os.cpu_count() or 1
    started = datetime.now(UTC)
    counts = demo_seed.seed(
        engine, tenants=tenants, seed=seed, progress=True, now=DATASET_NOW, history_days=1095, jobs=jobs
    )
    seconds = (datetime.now(UTC) - started).total_seconds()
    log(
        f"Seeded in {seconds:.0f} s ({jobs} jobs): "
        + ", ".join(f"{table} {count:,}" for table, count in counts.items())
    )
    with psycopg.connect(server.replace("+psycopg", ""), autocommit=True) as admin:
        with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as target:
            target.execute("VACUUM (ANALYZE)")
        admin.execute(f"COMMENT ON DATABASE \"{name}\" IS '{COMPLETE}'")
    return engine


def scratch_database(name: str, fill: Callable[[Engine], object]) -> str:
    """A fresh database `name` on the benchmark's server, migrated and then
    filled by `fill`; its SQLAlchemy URL. For parts that measure on their own data."""
    server = embedded.start(data_dir())
    with psycopg.connect(server.replace("+psycopg", ""), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    engine = create_engine(url)
    try:
        migrate.upgrade(engine)
        fill(engine)
    finally:
        engine.dispose()
    return url


def drop_scratch_database(name: str) -> None:
    server = embedded.start(data_dir())
    with psycopg.connect(server.replace("+psycopg", ""), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
