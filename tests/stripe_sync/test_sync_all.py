"""`sync --all` and the drift worker over many tenants: several at a time,
a line per tenant, an early stop when Stripe is unreachable, exit 1."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine

from stripe_sync import drift_worker, sync
from stripe_sync.catalog import PriceCatalog
from stripe_sync.errors import StripeUnavailable
from stripe_sync.tenant_pass import STOP_AFTER, WORKERS, PassAbandoned, run_pass
from tests import factories
from tests.cli_run import run_cli_captured
from tests.factories import NOW
from tests.stripe_emulator import free_port
from tests.stripe_sync.fake_stripe import FakeStripe
from tests.stripe_sync.test_sync import CONFIGURED, url_of
from tests.stripe_sync.webhook_support import hanging_stripe

DOWN = "cannot reach Stripe at http://127.0.0.1:9 while listing prices, after two retries with exponential backoff"


def tenants(engine: Engine, count: int) -> list[int]:
    with engine.begin() as conn:
        return [factories.tenant(conn, plan="Basis", stripe_customer_id=f"cus_many_{n}").id for n in range(count)]


class StripeDown(FakeStripe):
    def price_catalog(self) -> PriceCatalog:
        raise StripeUnavailable(DOWN)


def test_sync_all_stops_after_a_run_of_unavailable_stripe(engine: Engine) -> None:
    ids = tenants(engine, 40)
    result = sync.sync_all(engine, CONFIGURED, now=NOW, client=StripeDown())
    tried = len(result.failures)
    assert STOP_AFTER <= tried < STOP_AFTER + WORKERS  # the ones already started finish
    assert [f.tenant_id for f in result.failures] == sorted(f.tenant_id for f in result.failures)
    assert sorted([f.tenant_id for f in result.failures] + result.not_tried) == ids
    assert (
        result.stopped
        == f"Stripe unreachable: stopped after {STOP_AFTER} consecutive connection failures; 0 synced, {40 - tried} not tried"
    )
    assert result.to_json()["not_tried"] == 40 - tried


def test_only_a_run_of_unavailable_stripe_stops_a_pass() -> None:
    def work(tenant_id: int) -> int:
        if tenant_id % STOP_AFTER == 0:  # every tenth one answers
            return tenant_id
        if tenant_id == 15:
            raise RuntimeError("a bug, not an outage")
        raise StripeUnavailable(DOWN)

    ran = run_pass(range(1, 3 * STOP_AFTER), work, workers=1)
    assert (ran.stopped_after, ran.not_tried) == (0, [])
    assert [o.tenant_id for o in ran.outcomes if o.error is None] == [10, 20]
    assert [o.error_line for o in ran.outcomes if o.tenant_id == 15] == ["RuntimeError: a bug, not an outage"]

    # Tenant 3 answers, then STOP_AFTER in a row do not: the rest is not tried.
    stopped = run_pass(range(1, 31), lambda tenant_id: work(STOP_AFTER if tenant_id == 3 else 1), workers=1)
    assert (stopped.stopped_after, stopped.not_tried, stopped.stop_line("synced")) == (
        STOP_AFTER,
        list(range(STOP_AFTER + 4, 31)),
        f"Stripe unreachable: stopped after {STOP_AFTER} consecutive connection failures; 1 synced, {30 - STOP_AFTER - 3} not tried",
    )


class Gathering(FakeStripe):
    """Answers only once WORKERS reads are in flight at the same time."""

    def __init__(self) -> None:
        super().__init__()
        self.barrier = threading.Barrier(WORKERS, timeout=10)

    def customer(self, customer_id: str):  # type: ignore[no-untyped-def]
        self.barrier.wait()
        return super().customer(customer_id)


def test_tenants_are_synced_several_at_a_time(engine: Engine) -> None:
    ids = tenants(engine, WORKERS)
    result = sync.sync_all(engine, CONFIGURED, now=NOW, client=Gathering())
    assert result.failures == []
    assert [item.tenant_id for item in result.items] == ids


def test_the_drift_worker_stops_early_too_and_a_pass_with_skips_fails(engine: Engine) -> None:
    tenants(engine, 30)
    result = drift_worker.check_stale(engine, CONFIGURED, now=NOW, client=StripeDown())
    assert STOP_AFTER <= result.skipped_stripe_unavailable < STOP_AFTER + WORKERS
    assert result.not_tried == 30 - result.skipped_stripe_unavailable
    assert result.stopped is not None and result.stopped.endswith(f"0 checked, {result.not_tried} not tried")
    assert result.failed


def test_sync_all_prints_a_line_per_tenant_and_one_line_per_failure(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    tenants(engine, 3)
    monkeypatch.setattr("stripe_sync.sync.stripe_client_for", lambda settings: StripeDown())
    code, out, err = run_cli_captured(
        ["--database-url", url_of(engine), "sync", "--all"], monkeypatch, capsys, STRIPE_API_KEY="sk_test_x"
    )
    assert (code, out) == (1, "")
    lines = err.splitlines()
    progress, failures, last = lines[:3], lines[3:6], lines[6:]
    assert sorted(line.split("] ")[0] for line in progress) == ["[1/3", "[2/3", "[3/3"]
    assert all(line.endswith(": failed (Stripe unavailable)") for line in progress)
    assert all(line.startswith("tenant ") and line.endswith(DOWN) for line in failures)  # never wrapped at 80 columns
    assert last == ["error: 3 of 3 tenants failed to sync"]


@pytest.mark.slow
def test_sync_all_against_a_refusing_stripe_stops_within_seconds(engine: Engine, tmp_path: Path) -> None:
    """The real client (20 s timeout, two retries) against a port nobody
    listens on: the pass stops after STOP_AFTER refusals, WORKERS at a time."""
    tenants(engine, 60)
    env = {**os.environ, "STRIPE_API_KEY": "sk_test_x", "STRIPE_API_BASE": f"http://127.0.0.1:{free_port()}"}
    env.pop("BACKOFFICE_DATABASE_URL", None)
    command = [
        str(Path(sys.executable).parent / "backoffice"),
        "--database-url",
        url_of(engine),
        "sync",
        "--all",
        "--json",
    ]
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    took = time.monotonic() - started
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith(
        f"error: Stripe unreachable: stopped after {STOP_AFTER} consecutive connection failures; 0 synced, "
    )
    assert took < 15, f"{took:.1f} s"


class _CtrlC:
    """A progress callback that raises KeyboardInterrupt in the caller's
    thread, as Ctrl-C does, at the calls numbered in `at`."""

    def __init__(self, *at: int) -> None:
        self.at, self.calls = set(at), 0

    def __call__(self, *_: object) -> None:
        self.calls += 1
        if self.calls in self.at:
            raise KeyboardInterrupt


def test_ctrl_c_starts_no_tenant_more_and_lets_the_running_ones_finish() -> None:
    started: list[int] = []

    def work(tenant_id: int) -> int:
        started.append(tenant_id)
        time.sleep(0.05)
        return tenant_id

    ran = run_pass(range(1, 41), work, workers=4, progress=_CtrlC(1))
    assert ran.interrupted
    assert sorted(started) == [outcome.tenant_id for outcome in ran.outcomes]  # every started one finished
    assert len(ran.outcomes) <= 4 + 4 and ran.not_tried == list(range(len(started) + 1, 41))
    assert ran.stop_line("synced") == f"Interrupted: {len(started)} synced, {40 - len(started)} not tried"


def test_a_second_ctrl_c_leaves_the_running_tenants_at_once() -> None:
    release = threading.Event()

    def work(tenant_id: int) -> int:
        if tenant_id > 1:
            release.wait(30)  # a Stripe call that hangs
        return tenant_id

    # The first Ctrl-C as tenant 1 finishes, the second while the others hang
    # (sent to the main thread, where a terminal's Ctrl-C lands).
    second = threading.Timer(0.5, signal.pthread_kill, (threading.main_thread().ident, signal.SIGINT))
    started = time.monotonic()
    try:
        with pytest.raises(PassAbandoned) as abandoned:
            second.start()
            run_pass(range(1, 11), work, workers=3, progress=_CtrlC(1))
    finally:
        second.cancel()
        release.set()
    assert time.monotonic() - started < 5
    assert abandoned.value.in_progress == 2


def test_sync_all_interrupted_says_what_it_did_and_exits_130(engine: Engine) -> None:
    """SIGINT to `sync --all` against a Stripe that never answers: the pass
    stops starting tenants, a second SIGINT leaves at once with exit 130."""
    tenants(engine, 30)
    env = {**os.environ, "STRIPE_API_KEY": "sk_test_x"}
    env.pop("BACKOFFICE_DATABASE_URL", None)
    calls: list[socket.socket] = []
    with hanging_stripe(calls) as url:
        env["STRIPE_API_BASE"] = url
        command = [str(Path(sys.executable).parent / "backoffice"), "--database-url", url_of(engine), "sync", "--all"]
        process = subprocess.Popen(command, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env)
        try:
            deadline = time.monotonic() + 60
            while not calls:  # the first tenants are waiting on Stripe
                assert time.monotonic() < deadline and process.poll() is None, "no tenant reached Stripe"
                time.sleep(0.05)
            process.send_signal(signal.SIGINT)
            line = process.stderr.readline()
            while "interrupted: finishing" not in line:
                assert line, "no word of the interruption"
                line = process.stderr.readline()
            process.send_signal(signal.SIGINT)
            started = time.monotonic()
            code = process.wait(timeout=10)
            rest = process.stderr.read()
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    assert code == 130 and time.monotonic() - started < 5
    assert "stopped at once: " in rest and "left unfinished (rolled back)" in rest
