"""The benchmark's growth figures (bench/scaling.py): the fitted line, the
fourfold span, the verdict and the sizes a run measures."""

from __future__ import annotations

import pytest

from bench import scaling
from bench.harness import Measurement, seq_scanned


def _measured(size: int, ms: float, budget: float | None = 50) -> Measurement:
    return Measurement("accounts", "first page", 5, ms + 1, ms + 2, ms, 1, budget, min_ms=ms, pages=int(ms * 10))


def test_the_least_squares_line_predicts_the_time_at_a_million_tenants() -> None:
    per_size = {size: [_measured(size, 2 + size / 10_000)] for size in scaling.SIZES}
    (row,) = scaling.growth(per_size)
    assert row.best_ms == {12_500: 3.25, 25_000: 4.5, 50_000: 7.0, 100_000: 12.0}
    assert row.predicted_1m_ms == pytest.approx(102.0)
    assert row.factor == pytest.approx(12.0 / 4.5)
    assert row.factor_span == (25_000, 100_000)
    assert row.grows_within is False and row.predicted_within is False and row.within_budget is False
    assert row.pages == {12_500: 32, 25_000: 45, 50_000: 70, 100_000: 120}
    assert row.pages_factor == pytest.approx(120 / 45)


def test_a_flat_query_is_within_budget_and_a_fast_growing_one_is_flagged() -> None:
    flat = {size: [_measured(size, 3.0 + (0.1 if size == 100_000 else 0))] for size in scaling.SIZES}
    (row,) = scaling.growth(flat)
    assert row.factor == pytest.approx(3.1 / 3.0)
    assert row.within_budget is True
    # Grows 1.6x over the fourfold span, though its 1M time would fit: flagged.
    growing = {12_500: [_measured(12_500, 1.0)], 25_000: [_measured(25_000, 1.0)], 100_000: [_measured(100_000, 1.6)]}
    (row,) = scaling.growth(growing)
    assert row.predicted_within is True and row.grows_within is False and row.within_budget is False
    assert "MISSED" in scaling.verdict(row.within_budget)


def test_without_a_budget_only_the_growth_counts_and_falling_times_predict_zero() -> None:
    per_size = {25_000: [_measured(25_000, 9.0, None)], 100_000: [_measured(100_000, 3.0, None)]}
    (row,) = scaling.growth(per_size)
    assert row.predicted_1m_ms == 0.0
    assert row.predicted_within is None and row.within_budget is True


def test_one_size_has_no_line_and_sizes_without_a_fourfold_span_no_factor() -> None:
    (row,) = scaling.growth({100_000: [_measured(100_000, 5.0)]})
    assert row.predicted_1m_ms is None and row.factor is None and row.within_budget is None
    (row,) = scaling.growth({10_000: [_measured(10_000, 5.0)], 30_000: [_measured(30_000, 6.0)]})
    assert row.factor is None and row.predicted_1m_ms is not None


def test_the_sizes_come_from_the_arguments_then_the_environment_then_the_default() -> None:
    assert scaling.sizes_from([], {}) == (list(scaling.SIZES), None)
    assert scaling.sizes_from(["--sizes", "50000,12500", "--jobs", "3"], {}) == ([12_500, 50_000], 3)
    assert scaling.sizes_from([], {"BENCH_SIZES": "100, 400"}) == ([100, 400], None)
    assert scaling.sizes_from([], {"BENCH_TENANTS": "5000"}) == ([5000], None)
    with pytest.raises(SystemExit):
        scaling.sizes_from(["--sizes", "many"], {})
    with pytest.raises(SystemExit):
        scaling.sizes_from(["--jobs", "0"], {})


def test_the_table_names_every_size_and_says_the_million_is_an_extrapolation() -> None:
    from rich.console import Console

    per_size = {size: [_measured(size, 2 + size / 10_000)] for size in scaling.SIZES}
    console = Console(width=200, record=True)
    scaling.print_summary(console, scaling.growth(per_size))
    shown = console.export_text()
    for label in (
        "12.5k",
        "25k",
        "50k",
        "100k",
        "2.67x",
        "pages factor",
        "102",
        "extrapolat",
        "MISSED: accounts / first page",
    ):
        assert label in shown, label


def test_growth_under_a_millisecond_is_shown_but_not_judged() -> None:
    per_size = {25_000: [_measured(25_000, 0.4)], 100_000: [_measured(100_000, 0.9)]}
    (row,) = scaling.growth(per_size)
    assert row.factor == pytest.approx(2.25)
    assert row.grows_within is None and row.within_budget is True
    per_size = {25_000: [_measured(25_000, 0.6)], 100_000: [_measured(100_000, 1.2)]}
    (row,) = scaling.growth(per_size)
    assert row.grows_within is False


def test_a_plan_reading_a_growing_table_whole_is_missed_whatever_its_time() -> None:
    scanned = Measurement("dashboard", "kpis", 5, 2, 2, 1, 1, 300, min_ms=1, pages=10, seq_scans=("tenants",))
    small = Measurement("dashboard", "trends", 5, 2, 2, 1, 1, 300, min_ms=1, pages=10, seq_scans=("mrr_days",))
    kpis, trends = scaling.growth({25_000: [scanned, small], 100_000: [scanned, small]})
    assert kpis.reads_whole == ("tenants",) and kpis.within_budget is False
    assert trends.reads_whole == () and trends.within_budget is True
    assert kpis.as_json()["reads_whole"] == ["tenants"]


def test_what_the_operator_asked_for_is_timed_but_its_growth_not_judged() -> None:
    asked = {
        size: [Measurement("users", "exact", 5, ms, ms, ms, 1, None, min_ms=ms, on_request=True)]
        for size, ms in ((25_000, 5.0), (100_000, 40.0))
    }
    (row,) = scaling.growth(asked)
    assert row.factor == pytest.approx(8.0)
    assert row.grows_within is None and row.within_budget is None and row.as_json()["on_request"] is True


def test_the_seq_scans_of_a_plan_are_found_at_any_depth() -> None:
    plan = {
        "Node Type": "Hash Join",
        "Plans": [
            {"Node Type": "Seq Scan", "Relation Name": "tenants"},
            {"Node Type": "Hash", "Plans": [{"Node Type": "Index Scan", "Relation Name": "users"}]},
            {"Node Type": "Aggregate", "Plans": [{"Node Type": "Seq Scan", "Relation Name": "mrr_days"}]},
        ],
    }
    assert seq_scanned(plan) == {"tenants", "mrr_days"}
