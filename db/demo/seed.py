"""Demo data generator (placeholder until the generator lands)."""

from __future__ import annotations

from sqlalchemy import Engine, text


def database_is_empty(engine: Engine) -> bool:
    with engine.connect() as conn:
        return conn.execute(text("SELECT NOT EXISTS (SELECT 1 FROM tenants)")).scalar_one()


def seed(engine: Engine, *, tenants: int, seed: int, progress: bool = False) -> dict[str, int]:
    raise NotImplementedError("demo seed is not built yet")
