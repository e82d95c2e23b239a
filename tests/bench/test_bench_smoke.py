"""A small run of the benchmark harness: every case runs and is measured, and
the MRR trend agrees with the port of the original's algorithm."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine

from bench import cases
from bench.dataset import DATASET_NOW
from bench.harness import measure
from demo import seed as demo_seed


def test_every_case_runs_and_has_a_sql_floor(engine: Engine) -> None:
    demo_seed.seed(engine, tenants=40, seed=7, now=DATASET_NOW - timedelta(days=1))
    query_cases = cases.query_cases(engine)
    assert len(query_cases) >= 40
    for case in query_cases:
        measurement = measure(engine, case, runs=1)
        assert measurement.statements >= 1, case.name
        assert measurement.floor_ms > 0, case.name
        assert measurement.median_ms > 0, case.name

    comparison = cases.mrr_trend_comparison(engine, runs=1)
    assert comparison["same_figures"] is True
    assert comparison["speedup"] > 0
