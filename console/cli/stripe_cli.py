"""`backoffice stripe webhook` and `backoffice stripe poll`: the two ways events come in."""

from __future__ import annotations

import logging
import sys

import typer
from sqlalchemy import Engine

from core.clock import utcnow
from core.errors import Forbidden, OperatorError, StripeNotConfigured
from db import engine as db_engine
from stripe_sync import poll as poll_module
from stripe_sync import webhook as webhook_module
from stripe_sync.client import client_from_settings

from console.cli.context import app_context
from console.cli.groups import stripe_app
from console.cli.options import JsonOption
from console.cli.output import emit_json, stdout


def register(app: typer.Typer) -> None:
    """The commands live on the shared `stripe` group; nothing else to add."""


def _require_writer(engine: Engine, command: str) -> None:
    with engine.connect() as conn:
        if not db_engine.is_admin(conn):
            raise Forbidden(f"{command} writes to the database: connect as a member of backoffice_admin")


@stripe_app.command("webhook")
def webhook(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (loopback by default)."),
    port: int = typer.Option(8787, "--port", min=0, max=65535, help="Port to listen on (0: any free port)."),
) -> None:
    """Receive Stripe webhooks on POST /stripe/webhook: verify the signature, store each event once as pending."""
    app = app_context(ctx)
    engine = app.engine()
    _require_writer(engine, "stripe webhook")
    secret = app.settings.stripe_webhook_secret
    if not secret:
        raise StripeNotConfigured("Stripe is not configured: set STRIPE_WEBHOOK_SECRET to receive webhooks")
    _log_to_stderr()
    receiver = webhook_module.WebhookReceiver(engine, secret)
    try:
        server = webhook_module.WebhookServer(receiver, host, port)
    except OSError as error:
        raise OperatorError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
    # Processing of pending events is triggered per customer once a processor exists.
    typer.echo(f"listening on {server.url}", err=True)
    webhook_module.serve_until_signalled(server)
    typer.echo("stopped", err=True)


@stripe_app.command("poll")
def poll(ctx: typer.Context, json_output: bool = JsonOption) -> None:
    """Pull new events from Stripe's events list into the same store as webhooks."""
    app = app_context(ctx)
    engine = app.engine()
    _require_writer(engine, "stripe poll")
    client = client_from_settings(app.settings)
    with engine.begin() as conn:
        result = poll_module.poll_events(conn, client, utcnow())
    if json_output:
        emit_json(result)
    else:
        stdout.print(
            f"{result.listed} listed: {result.stored} stored, {result.ignored} ignored (no customer), "
            f"{result.malformed} malformed, {result.skipped} already stored"
            + (f" ({result.payload_mismatches} with a different payload)" if result.payload_mismatches else "")
        )
    if not result.complete:
        raise OperatorError("Stripe's events list failed part-way: what was read is stored, the cursor did not move; run poll again")


def _log_to_stderr() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%Y-%m-%dT%H:%M:%S%z"))
    for name in ("stripe_sync.webhook", "stripe_sync.ingest"):
        logger = logging.getLogger(name)
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
