"""A small run of the benchmark harness: every case runs and is measured at two sizes, and
the MRR trend agrees with the naive day-by-day reconstruction in
bench/original_mrr.py (docs/rules.md R33)."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import Engine

from bench import cases, scaling
from bench.dataset import DATASET_NOW
from demo import seed as demo_seed


def test_every_case_runs_at_every_size_and_has_a_sql_floor_and_a_growth(engine: Engine) -> None:
    seeded = []

    def engine_for(size: int) -> Engine:
        demo_seed.seed(engine, tenants=size, seed=7, now=DATASET_NOW - timedelta(days=1), replace=True)
        seeded.append(size)
        return engine

    per_size, largest = scaling.measure_sizes([80, 20], engine_for, cases.query_cases, runs=1, log=lambda _: None)
    assert seeded == [20, 80] and largest is engine
    query_cases = per_size[80]
    assert len(query_cases) >= 40
    assert [(m.group, m.name) for m in per_size[20]] == [(m.group, m.name) for m in query_cases]
    for measurement in query_cases:
        assert measurement.statements >= 1, measurement.name
        assert measurement.floor_ms > 0, measurement.name
        assert measurement.pages is not None and measurement.pages >= 0, measurement.name
        assert measurement.median_ms > 0, measurement.name
        assert measurement.min_ms is not None and 0 < measurement.min_ms <= measurement.median_ms, measurement.name

    rows = scaling.growth(per_size)
    assert len(rows) == len(query_cases)
    for row in rows:
        assert set(row.best_ms) == {20, 80}
        assert row.factor_span == (20, 80)
        assert row.best_ms == {
            size: next(m.min_ms for m in per_size[size] if m.name == row.name and m.group == row.group)
            for size in (20, 80)
        }
        assert row.factor == row.best_ms[80] / row.best_ms[20]
        assert row.pages is not None and set(row.pages) == {20, 80}
        assert row.predicted_1m_ms is not None and row.predicted_1m_ms >= 0
    document = scaling.results(rows, [20, 80])
    assert document["sizes"] == [20, 80] and document["factor_span"] == [20, 80]
    assert set(document["queries"][0]) >= {"best_ms", "factor", "predicted_1m_ms", "budget_ms", "within_budget"}
    json.dumps(document)  # the results file takes it as it is

    comparison = cases.mrr_trend_comparison(engine, runs=1)
    assert comparison["same_figures"] is True
    assert comparison["speedup"] > 0
