"""The webhook receiver over real HTTP, with signatures made like Stripe's."""

from __future__ import annotations

import hashlib
import http.client
import logging
import socket
import threading
import time
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import Engine, create_engine, select

from db.models import StripeEvent
from stripe_sync.webhook import CustomerRuns, sign_payload
from tests.stripe_sync.webhook_support import SECRET, event_body, post, running_server, sign


def _rows(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(select(StripeEvent).order_by(StripeEvent.id)))


def test_signed_event_is_stored_pending(engine: Engine) -> None:
    body = event_body("evt_ok")
    with running_server(engine) as server:
        assert post(server.url, body, [sign(body)]) == (200, "")
    [row] = _rows(engine)
    assert (row.id, row.status, row.stripe_customer_id, row.event_type) == (
        "evt_ok",
        "Pending",
        "cus_1",
        "customer.subscription.updated",
    )
    assert row.payload_hash == hashlib.sha256(body).hexdigest()


@pytest.mark.parametrize(
    ("signatures", "message"),
    [
        ([], "Stripe-Signature header missing or duplicated."),
        (["dup1", "dup2"], "Stripe-Signature header missing or duplicated."),
        (["t=1,v1=deadbeef"], "Invalid webhook signature."),
        ("other-secret", "Invalid webhook signature."),
        ("old", "Invalid webhook signature."),
    ],
)
def test_unverifiable_deliveries_are_refused_and_not_stored(engine: Engine, signatures: Any, message: str) -> None:
    body = event_body("evt_refused")
    if signatures == "other-secret":
        signatures = [sign(body, "whsec_other")]
    elif signatures == "old":  # outside the SDK's 300 s tolerance
        signatures = [sign(body, timestamp=int(time.time()) - 600)]
    with running_server(engine) as server:
        assert post(server.url, body, signatures) == (400, message)
    assert _rows(engine) == []


def test_redelivery_with_a_different_payload_keeps_the_first(engine: Engine) -> None:
    first, second = event_body("evt_same", status="active"), event_body("evt_same", status="past_due")
    with running_server(engine) as server:
        assert post(server.url, first, [sign(first)])[0] == 200
        assert post(server.url, second, [sign(second)])[0] == 200
    [row] = _rows(engine)
    assert row.payload["data"]["object"]["status"] == "active"
    assert row.payload_hash == hashlib.sha256(first).hexdigest()


def test_unknown_type_and_no_customer_are_acknowledged(engine: Engine) -> None:
    unknown = event_body("evt_unknown", "radar.early_fraud_warning.created")
    product = event_body("evt_product", "product.created", customer=None)
    with running_server(engine) as server:
        assert post(server.url, unknown, [sign(unknown)])[0] == 200
        assert post(server.url, product, [sign(product)])[0] == 200
    rows = {row.id: row for row in _rows(engine)}
    assert rows["evt_unknown"].status == "Pending"
    assert rows["evt_product"].status == "Ignored" and rows["evt_product"].processed_at is not None


def test_signed_malformed_json_is_stored_failed_and_the_receiver_keeps_going(engine: Engine) -> None:
    broken = b'{"id": "evt_broken", "type": '
    good = event_body("evt_after")
    with running_server(engine) as server:
        assert post(server.url, broken, [sign(broken)])[0] == 200
        assert post(server.url, good, [sign(good)])[0] == 200
    rows = {row.id: row for row in _rows(engine)}
    malformed = rows[f"evt_malformed_{hashlib.sha256(broken).hexdigest()[:24]}"]
    assert (malformed.status, malformed.error) == ("Failed", "body is not JSON")
    assert rows["evt_after"].status == "Pending"


def test_other_paths_404_and_other_methods_405(engine: Engine) -> None:
    body = event_body("evt_path")
    with running_server(engine) as server:
        base = server.url.removesuffix("/stripe/webhook")
        assert post(f"{base}/webhook", body, [sign(body)])[0] == 404
        assert post(f"{base}/", b"", method="GET")[0] == 404
        assert post(server.url, b"", method="GET") == (405, "Only POST is allowed.")
        assert post(server.url, b"", method="PUT")[0] == 405
    assert _rows(engine) == []


def test_processing_is_triggered_per_customer_after_the_reply(engine: Engine) -> None:
    processed: list[str] = []
    done = threading.Event()

    def process(customer_id: str) -> None:
        processed.append(customer_id)
        done.set()

    runs = CustomerRuns(process)
    body, ignored = (
        event_body("evt_trigger", customer="cus_9"),
        event_body("evt_none", "product.created", customer=None),
    )
    try:
        with running_server(engine, on_stored=runs.submit) as server:
            assert post(server.url, ignored, [sign(ignored)])[0] == 200
            assert post(server.url, body, [sign(body)])[0] == 200
            assert done.wait(5)
        assert runs.wait(5)
    finally:
        runs.stop()
    assert processed == ["cus_9"]


def test_customer_runs_never_overlap_and_rerun_once_for_requests_during_a_run() -> None:
    started, release = threading.Event(), threading.Event()
    calls: list[str] = []
    active = 0
    overlap = False

    def process(customer_id: str) -> None:
        nonlocal active, overlap
        active += 1
        overlap = overlap or active > 1
        calls.append(customer_id)
        started.set()
        release.wait(5)
        active -= 1

    runs = CustomerRuns(process)
    try:
        runs.submit("cus_a")
        assert started.wait(5)
        runs.submit("cus_a")
        runs.submit("cus_a")
        release.set()
        assert runs.wait(5)
    finally:
        runs.stop()
    assert calls == ["cus_a", "cus_a"] and not overlap


def test_a_rerun_waits_for_the_spacing_after_the_previous_start() -> None:
    starts: list[float] = []
    first_started = threading.Event()

    def process(customer_id: str) -> None:
        starts.append(time.monotonic())
        first_started.set()
        time.sleep(0.05)

    runs = CustomerRuns(process, spacing=0.4)
    try:
        runs.submit("cus_burst")
        assert first_started.wait(5)
        for _ in range(5):
            runs.submit("cus_burst")
        runs.submit("cus_other")  # other customers are not held back
        assert runs.wait(5)
    finally:
        runs.stop()
    assert len(starts) == 3 and starts[2] - starts[0] >= 0.4
    assert starts[1] - starts[0] < 0.3


def test_customer_runs_use_a_bounded_number_of_threads() -> None:
    release = threading.Event()
    lock = threading.Lock()
    active, most, done = 0, 0, []

    def process(customer_id: str) -> None:
        nonlocal active, most
        with lock:
            active += 1
            most = max(most, active)
        release.wait(5)
        with lock:
            active -= 1
            done.append(customer_id)

    runs = CustomerRuns(process, workers=3)
    try:
        for index in range(12):
            runs.submit(f"cus_{index}")
        time.sleep(0.2)
        assert most == 3  # the other nine wait their turn, not on threads of their own
        release.set()
        assert runs.wait(5)
    finally:
        runs.stop()
    assert sorted(done) == sorted(f"cus_{index}" for index in range(12))


def test_stopping_runs_drops_queued_customers_and_does_not_wait_for_a_stuck_one() -> None:
    stuck, release = threading.Event(), threading.Event()
    calls: list[str] = []

    def process(customer_id: str) -> None:
        calls.append(customer_id)
        stuck.set()
        release.wait(10)

    runs = CustomerRuns(process, workers=1)
    runs.submit("cus_stuck")
    assert stuck.wait(5)
    runs.submit("cus_waiting")
    started = time.monotonic()
    runs.stop()
    assert time.monotonic() - started < 0.5
    runs.submit("cus_after_stop")
    release.set()
    time.sleep(0.1)
    assert calls == ["cus_stuck"]


def test_a_failing_processor_does_not_break_the_receiver(engine: Engine) -> None:
    def process(customer_id: str) -> None:
        raise RuntimeError("boom")

    runs = CustomerRuns(process)
    first, second = event_body("evt_f1"), event_body("evt_f2")
    try:
        with running_server(engine, on_stored=runs.submit) as server:
            assert post(server.url, first, [sign(first)])[0] == 200
            assert runs.wait(5)
            assert post(server.url, second, [sign(second)])[0] == 200
        assert runs.wait(5)
    finally:
        runs.stop()
    assert [row.id for row in _rows(engine)] == ["evt_f1", "evt_f2"]
    assert [(row.id, row.status) for row in _rows(engine)] == [("evt_f1", "Pending"), ("evt_f2", "Pending")]


def test_a_failing_run_is_logged_on_one_line(caplog: pytest.LogCaptureFixture) -> None:
    def process(customer_id: str) -> None:
        raise RuntimeError("Stripe went away\nwith a second line")

    runs = CustomerRuns(process)
    try:
        with caplog.at_level(logging.WARNING, logger="stripe_sync.webhook"):
            runs.submit("cus_fail")
            assert runs.wait(5)
    finally:
        runs.stop()
    [record] = caplog.records
    assert record.getMessage() == "processing pending Stripe events of cus_fail failed: Stripe went away"
    assert record.exc_info is None


def test_a_database_failure_answers_500_and_logs_one_line(caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as probe:  # a port nothing listens on: the database is down
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    down = create_engine(f"postgresql+psycopg://nobody@127.0.0.1:{port}/none", connect_args={"connect_timeout": 2})
    body = event_body("evt_db_down")
    try:
        with caplog.at_level(logging.INFO, logger="stripe_sync.webhook"), running_server(down) as server:
            assert post(server.url, body, [sign(body)]) == (500, "Could not store the event.")
    finally:
        down.dispose()
    [record] = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert record.getMessage().startswith("storing a Stripe delivery failed: ") and record.exc_info is None
    assert "\n" not in record.getMessage()


def test_ingestion_throughput(engine: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    """Signed POSTs over one keep-alive connection, each stored in its own transaction."""
    count = 300
    bodies = [event_body(f"evt_load_{index:05d}", customer=f"cus_{index % 20}") for index in range(count)]
    signed = [(body, sign(body)) for body in bodies]
    with running_server(engine) as server:
        parts = urlsplit(server.url)
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        started = time.perf_counter()
        for body, signature in signed:
            assert post(server.url, body, [signature], connection=connection)[0] == 200
        elapsed = time.perf_counter() - started
        connection.close()
    with engine.connect() as conn:
        stored = conn.execute(select(StripeEvent.id)).all()
    assert len(stored) == count
    with capsys.disabled():
        print(f"\nwebhook ingestion: {count} signed events in {elapsed:.2f} s = {count / elapsed:.0f} events/s")
    assert count / elapsed > 20


def test_our_signer_writes_the_header_stripes_sdk_writes() -> None:
    # sign_payload feeds the benchmark and the tests' non-UTF-8 bodies: it must match Stripe's own signer.
    body = event_body("evt_signed")
    assert sign_payload(body, SECRET, 1778241600) == sign(body, SECRET, 1778241600)
