"""A short run of the kiosk soak (bench/soak.py) on the test database: it
counts refresh cycles, samples memory and counts, and judges them. The soak
itself (its own server, 10,000 cycles, an outage) is `make soak`."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bench import soak
from bench.dataset import DATASET_NOW
from demo import seed as demo_seed


def test_a_short_soak_runs_and_is_judged(engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BACKOFFICE_CONFIG_DIR", str(tmp_path))
    demo_seed.seed(engine, tenants=5, seed=3, now=DATASET_NOW - timedelta(days=1))
    url = engine.url.render_as_string(hide_password=False)
    figures = asyncio.run(soak.soak_kiosk(url, 40, None, progress=lambda line: None))
    assert figures["cycles"] >= 40 and figures["outage"] is None
    assert figures["panels_visible_at_end"] == 1  # 80x24 rotates
    for sample in (figures["start"], figures["end"]):
        assert sample["peak_mb"] > 0 and sample["widgets"] > 50 and sample["timers"] > 0
    # Forty cycles are too few to judge (scroll bars and caches appear in the
    # first minutes); the judging itself is what is checked here.
    assert set(soak.verdicts(figures)) == {"memory", *soak.COUNTS}
